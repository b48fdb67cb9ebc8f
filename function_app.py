"""The Functions entry point: registers each feature's blueprints, nothing else."""

import azure.functions as func

from functions import batch, http, queue, upstream
from functions.core import warmup

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
# The catch-all last: tried after every route (functions/http/fallback.py says why that takes its name too).
for blueprint in (*http.blueprints, batch.bp, queue.bp, upstream.bp, http.fallback_blueprint):
    app.register_functions(blueprint)
warmup.start()  # signing keys and the SignalR token, fetched in the background (functions.core.warmup)
