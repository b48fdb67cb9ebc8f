"""The Functions entry point: registers the blueprints, nothing else."""

import azure.functions as func

from functions.batch_api import bp as batch
from functions.core import warmup
from functions.health import bp as health
from functions.http_api import bp as operations
from functions.negotiate import bp as negotiate
from functions.openapi import bp as openapi
from functions.queue_api import bp as queue_commands
from functions.upstream_api import bp as upstream_events

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
for blueprint in (operations, batch, negotiate, health, openapi, queue_commands, upstream_events):
    app.register_functions(blueprint)
warmup.start()  # signing keys and the SignalR token, fetched in the background (functions/core/warmup.py)
