"""URL routing: resources, routes, the dispatcher and route definitions."""
