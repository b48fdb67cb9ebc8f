"""The Functions entry point: registers the blueprints, nothing else."""

import azure.functions as func

from functions.http_api import bp as operations

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)
app.register_functions(operations)
