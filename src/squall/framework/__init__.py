"""aiohttp's application API: Application, Request, responses, routing, exceptions."""
