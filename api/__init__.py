"""The FastAPI service: JSON API under /api, dashboards at /, OpenAPI at /api/openapi.json."""
