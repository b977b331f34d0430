"""Date and number formats the portal uses instead of Django's defaults (``FORMAT_MODULE_PATH``).

Only English is overridden: Django's ``en`` formats put the month before the day ("Oct. 20, 2026",
"10/20/2026"), an order no reader in Belgium expects. French and Dutch keep their locales' formats."""
