"""README.md documents every environment variable portal/settings.py reads."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r"""env_(?:str|bool|int|list)\(\s*["']([A-Z][A-Z0-9_]*)["']""")


def test_every_settings_variable_is_in_the_readme():
    settings_source = (REPO / "portal" / "settings.py").read_text(encoding="utf-8")
    variables = set(ENV_READ.findall(settings_source))
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL"} <= variables  # the regex works
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    undocumented = sorted(name for name in variables if f"`{name}`" not in readme)
    assert not undocumented, f"add these to the configuration table in README.md: {undocumented}"
