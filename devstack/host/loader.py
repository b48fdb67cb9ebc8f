"""Import the function app and index its functions once, as the Python worker does.

The worker imports ``function_app`` from the script root, finds the one ``FunctionApp``
(any ``FunctionRegister``) among its globals and calls ``get_functions()`` once; the host
then reads each function's function.json. We read the same JSON, so what runs locally is
what Azure would index.

The module is loaded under a private name (``devstack_app_<n>``) so an in-process host never
shadows a real ``import function_app`` elsewhere (tests load several apps in one process).
"""

from __future__ import annotations

import importlib.util
import inspect
import itertools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from azure.functions.decorators.function_app import FunctionRegister

from devstack.host.routing import RouteTemplate, RouteTemplateError, parse_template

_COUNTER = itertools.count(1)
DEFAULT_CONNECTION = "AzureWebJobsStorage"


class AppLoadError(RuntimeError):
    """Raised when the function app cannot be imported or indexed; the message names the function."""


@dataclass(frozen=True)
class HttpTriggerSpec:
    arg_name: str
    route: RouteTemplate
    methods: frozenset[str] | None  # None: every method, as when methods is omitted
    output_name: str | None  # "$return" or the name of an Out[HttpResponse] parameter


@dataclass(frozen=True)
class QueueTriggerSpec:
    arg_name: str
    queue_name: str  # may hold %SETTING% expressions, resolved when the listener starts
    connection: str
    body_type: str  # "message", "str" or "bytes", from the parameter's annotation


@dataclass(frozen=True)
class QueueOutputSpec:
    arg_name: str
    queue_name: str
    connection: str


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    func: Callable[..., Any]
    is_async: bool
    trigger: HttpTriggerSpec | QueueTriggerSpec
    queue_outputs: tuple[QueueOutputSpec, ...]
    wants_context: bool


@dataclass
class LoadedApp:
    module: ModuleType
    module_name: str
    functions: list[FunctionSpec]


def load_app(app_dir: Path, app_module: str = "function_app") -> LoadedApp:
    """Import ``app_dir/<app_module>.py`` and index its functions. ``app_dir`` must be on sys.path."""
    path = app_dir / f"{app_module}.py"
    if not path.is_file():
        raise AppLoadError(f"no {path}")
    name = f"devstack_app_{next(_COUNTER)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise AppLoadError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(name, None)
        raise AppLoadError(f"importing {path} failed: {e!r}") from e
    apps = [v for v in vars(module).values() if isinstance(v, FunctionRegister)]
    if len(apps) != 1:
        sys.modules.pop(name, None)
        raise AppLoadError(f"{path} must define exactly one FunctionApp, found {len(apps)}")
    try:
        functions = [_spec_for(f) for f in apps[0].get_functions()]
    except (ValueError, RouteTemplateError) as e:
        sys.modules.pop(name, None)
        raise AppLoadError(str(e)) from e
    return LoadedApp(module=module, module_name=name, functions=functions)


def _spec_for(function: Any) -> FunctionSpec:
    name = function.get_function_name()
    user_func = function.get_user_function()
    bindings = json.loads(function.get_function_json())["bindings"]
    params = inspect.signature(user_func).parameters
    trigger: HttpTriggerSpec | QueueTriggerSpec | None = None
    http_output: str | None = None
    outputs: list[QueueOutputSpec] = []
    for b in bindings:
        kind, direction = b.get("type"), str(b.get("direction", "")).upper()
        if kind == "httpTrigger":
            try:
                route = parse_template(b.get("route") or name)
            except RouteTemplateError as e:
                raise AppLoadError(f"function {name}: {e}") from e
            methods = b.get("methods")
            trigger = HttpTriggerSpec(
                arg_name=b["name"],
                route=route,
                methods=frozenset(str(m).upper() for m in methods) if methods else None,
                output_name=None,
            )
        elif kind == "queueTrigger":
            trigger = QueueTriggerSpec(
                arg_name=b["name"],
                queue_name=b["queueName"],
                connection=b.get("connection") or DEFAULT_CONNECTION,
                body_type=_body_type(params.get(b["name"])),
            )
        elif kind == "http" and direction == "OUT":
            http_output = b["name"]
        elif kind == "queue" and direction == "OUT":
            outputs.append(
                QueueOutputSpec(b["name"], b["queueName"], b.get("connection") or DEFAULT_CONNECTION)
            )
        else:
            raise AppLoadError(f"function {name}: binding type {kind!r} is not supported by the local host")
    if trigger is None:
        raise AppLoadError(f"function {name}: no HTTP or queue trigger")
    if isinstance(trigger, HttpTriggerSpec):
        trigger = HttpTriggerSpec(trigger.arg_name, trigger.route, trigger.methods, http_output)
    return FunctionSpec(
        name=name,
        func=user_func,
        is_async=inspect.iscoroutinefunction(user_func),
        trigger=trigger,
        queue_outputs=tuple(outputs),
        wants_context="context" in params,
    )


def _body_type(param: inspect.Parameter | None) -> str:
    annotation = None if param is None else param.annotation
    if annotation in (str, "str"):
        return "str"
    if annotation in (bytes, "bytes"):
        return "bytes"
    return "message"
