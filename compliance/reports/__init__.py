"""PDF audit reports: application dossiers and period reports, their CSV twin, and their verification.

data.py assembles (selectors), render.py turns HTML into PDF, csv_export.py writes the CSV, and
services.py requests, generates and verifies reports, each step written to the audit trail."""
