"""/api/v1/staff/provisioning/: the operator's provisioning endpoints."""
