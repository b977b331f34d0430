"""Apps add their demo data by listing a seeder here: f(*, users, organisation, stdout)."""

from importlib import import_module

SEEDERS = [
    "allocations.demo.seed",
]


def extra_seeders():
    for dotted in SEEDERS:
        module, func = dotted.rsplit(".", 1)
        yield getattr(import_module(module), func)
