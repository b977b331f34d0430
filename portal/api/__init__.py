"""What every part of the REST API shares: the error shape, pagination, throttling of token failures,
schema helpers. The endpoints live in each app's ``api/`` package; ``portal/api_urls.py`` mounts them."""
