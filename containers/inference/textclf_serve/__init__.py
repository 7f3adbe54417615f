"""The kit's text classifier: SageMaker serving side (`serve`, /ping, /invocations).

Importable and testable without gunicorn: `app.InferenceApp` is a plain WSGI
application; `server` runs it under gunicorn.
"""
