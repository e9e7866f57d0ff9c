"""HTTP API around the one Predictor: `create_app(predictor, cfg)` in `mathlens.server.app`.

Needs the `serve` extra (FastAPI, uvicorn, python-multipart). Nothing is imported here, so that
`import mathlens.server` stays cheap and `import mathlens` never pulls FastAPI in.
"""
