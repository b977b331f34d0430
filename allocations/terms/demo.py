"""Demo terms of use (manage.py seed_demo): the platform's version 1, in force today with 30 days of grace,
and Zellik's version 1, in force in two weeks, in English, French and Dutch. The demo applicant, on the
team of the demo's active allocation, has accepted neither: the dashboard and /terms/ show them pending,
and the applicant is out of the association until they accept. Idempotent: nothing is added when a
version of the terms is already published."""

from __future__ import annotations

import datetime

from django.utils import timezone

from allocations.catalogue.models import Site
from allocations.terms.models import TermsVersion

PLATFORM = {
    "title_en": "AI Factory acceptable use policy",
    "text_en": "Use the compute granted to your project for that project only.\n\n"
               "Never share your account or your SSH keys. Report a security incident to the operator at once.\n\n"
               "Acknowledge the AI Factory in the publications and models your project produces.",
    "title_fr": "Politique d'utilisation acceptable de l'AI Factory",
    "text_fr": "Utilisez les ressources de calcul octroyées à votre projet pour ce projet seulement.\n\n"
               "Ne partagez jamais votre compte ni vos clés SSH. Signalez sans délai tout incident de sécurité à "
               "l'opérateur.\n\n"
               "Mentionnez l'AI Factory dans les publications et les modèles issus de votre projet.",
    "title_nl": "Beleid voor aanvaardbaar gebruik van de AI Factory",
    "text_nl": "Gebruik de rekentijd die aan uw project is toegekend alleen voor dat project.\n\n"
               "Deel nooit uw account of uw SSH-sleutels. Meld een beveiligingsincident onmiddellijk aan de "
               "operator.\n\n"
               "Vermeld de AI Factory in de publicaties en modellen die uw project oplevert.",
}
ZELLIK = {
    "title_en": "Zellik cluster rules",
    "text_en": "Keep data in your project directory; scratch space is wiped after 30 days.\n\n"
               "Jobs that run longer than the partition's time limit are stopped.",
    "title_fr": "Règlement du cluster de Zellik",
    "text_fr": "Gardez vos données dans le répertoire de votre projet ; l'espace temporaire est vidé après "
               "30 jours.\n\nLes travaux qui dépassent la limite de temps de la partition sont arrêtés.",
    "title_nl": "Reglement van de cluster in Zellik",
    "text_nl": "Bewaar uw gegevens in de map van uw project; de tijdelijke ruimte wordt na 30 dagen gewist.\n\n"
               "Jobs die langer lopen dan de tijdslimiet van de partitie worden gestopt.",
}


def seed_terms(*, operator=None) -> int:
    """Publish the demo versions (written directly: the demo has no operator session). Returns how many."""
    if TermsVersion.objects.exists():
        return 0
    today = timezone.localdate()
    now = timezone.now()
    made = [TermsVersion.objects.create(site=None, number=1, effective_date=today, grace_days=30, published_at=now,
                                        published_by=operator, **PLATFORM)]
    zellik = Site.objects.filter(code="zellik", is_active=True).first()
    if zellik is not None:
        made.append(TermsVersion.objects.create(site=zellik, number=1, grace_days=30, published_at=now,
                                                effective_date=today + datetime.timedelta(days=14),
                                                published_by=operator, **ZELLIK))
    return len(made)
