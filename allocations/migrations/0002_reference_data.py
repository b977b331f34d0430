"""Sites and access modes with the published EuroHPC AI Factory figures (editable by staff)."""

from django.db import migrations

TECHNICAL_RUBRIC = [
    {"code": "feasibility", "label": "Technical feasibility and readiness", "weight": 0.4, "scale": 5},
    {"code": "resources", "label": "Justification of the requested resources", "weight": 0.4, "scale": 5},
    {"code": "team", "label": "Team capacity", "weight": 0.2, "scale": 5},
]
LARGE_SCALE_RUBRIC = [
    {"code": "excellence", "label": "Excellence and innovation", "weight": 0.35, "scale": 5},
    {"code": "impact", "label": "Impact for the European AI ecosystem", "weight": 0.35, "scale": 5},
    {"code": "implementation", "label": "Quality of implementation and resources", "weight": 0.3, "scale": 5},
]

MODES = [
    {
        "code": "playground", "name": "Playground", "order": 1,
        "description": "Entry-level access to try the systems. Access within 2 working days, 1 to 3 months.",
        "min_gpu_hours": None, "max_gpu_hours": 2000, "max_cpu_core_hours": 20000, "max_storage_tb": "5",
        "allowed_durations": [1, 2, 3], "sla_working_days": 2, "requires_call": False,
        "eligible_org_types": ["sme", "startup", "research", "public_body"],
        "review_path": {"technical": 1}, "rubric": TECHNICAL_RUBRIC, "slurm_qos": "aif_playground",
        "qos_limits": {"MaxTRESPerJob": "gres/gpu=2", "MaxWall": "12:00:00"},
    },
    {
        "code": "fast_lane", "name": "Fast Lane", "order": 2,
        "description": "Up to 50,000 GPU-hours. Decision within 4 working days, 1 to 3 months.",
        "min_gpu_hours": None, "max_gpu_hours": 50000, "max_cpu_core_hours": 500000, "max_storage_tb": "50",
        "allowed_durations": [1, 2, 3], "sla_working_days": 4, "requires_call": False,
        "eligible_org_types": ["sme", "startup", "research", "public_body"],
        "review_path": {"technical": 1}, "rubric": TECHNICAL_RUBRIC, "slurm_qos": "aif_fast_lane",
        "qos_limits": {"MaxTRESPerJob": "gres/gpu=16", "MaxWall": "48:00:00"},
    },
    {
        "code": "large_scale", "name": "Large Scale", "order": 3,
        "description": "More than 50,000 GPU-hours. Decision within 10 working days after the call's cut-off; "
                       "3, 6 or 12 months.",
        "min_gpu_hours": 50000, "max_gpu_hours": None, "max_cpu_core_hours": None, "max_storage_tb": None,
        "allowed_durations": [3, 6, 12], "sla_working_days": 10, "requires_call": True,
        "eligible_org_types": ["sme", "startup", "research", "public_body", "large_enterprise"],
        "review_path": {"scientific": 2, "technical": 1, "committee": True, "right_to_reply": True},
        "rubric": LARGE_SCALE_RUBRIC, "slurm_qos": "aif_large_scale",
        "qos_limits": {"MaxTRESPerJob": "gres/gpu=64", "MaxWall": "72:00:00"},
    },
]

SITES = [
    {"code": "zellik", "name": "Zellik", "slurm_cluster": "zellik", "gpu_model": "H100"},
    {"code": "charleroi", "name": "Charleroi", "slurm_cluster": "charleroi", "gpu_model": "H200"},
]


def load(apps, schema_editor):
    AccessMode = apps.get_model("allocations", "AccessMode")
    Site = apps.get_model("allocations", "Site")
    for mode in MODES:
        AccessMode.objects.update_or_create(code=mode["code"], defaults=mode)
    for site in SITES:
        Site.objects.update_or_create(code=site["code"], defaults=site)


class Migration(migrations.Migration):
    dependencies = [("allocations", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
