from __future__ import annotations

import pytest

from devstack.host import LocalHost
from devstack.host.loader import AppLoadError
from devstack.host.routing import RouteTemplateError, parse_template

from .helpers import SAMPLE_APP, raw_request


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/items/new", "literal"),
        ("GET", "/api/ITEMS/NEW", "literal"),
        ("GET", "/api/items/42", "any:42"),
        ("GET", "/api/items/a-1", "any:a-1"),
        ("GET", "/api/items/42/", "any:42"),
        ("POST", "/api/hubs/chat/:execute", "execute:chat"),
        ("POST", "/api/hubs/chat/:EXECUTE", "execute:chat"),
        ("POST", "/api/hubs/chat/room1", "group:room1"),
        ("POST", "/api/hubs/chat/%3Aexecute", "execute:chat"),  # decoded before matching, as Core Tools does
    ],
)
def test_a_literal_segment_wins_over_a_parameter_whatever_the_registration_order(http_host, method, path, expected):
    response = raw_request(http_host, method, path)
    assert (response.status, response.body.decode()) == (200, expected)


def test_an_encoded_segment_arrives_as_one_decoded_route_value(http_host):
    response = raw_request(http_host, "GET", "/api/groups/a%2F..%2Fb%3Fx%3D1%23y/members")
    assert (response.status, response.body.decode()) == (200, "a/../b?x=1#y")


def test_a_segment_holding_a_line_feed_still_reaches_the_function(http_host):
    response = raw_request(http_host, "GET", "/api/groups/a%0Ab/members")
    assert (response.status, response.body.decode()) == (200, "a\nb")


@pytest.mark.parametrize(
    "path", ["/api/nothing", "/api/items", "/api/items/a/b", "/api/groups//members", "/nope"]
)
def test_unmatched_paths_and_empty_parameters_are_404(http_host, path):
    assert raw_request(http_host, "GET", path).status == 404


def test_a_known_path_with_a_method_no_function_allows_is_404_like_the_functions_host(http_host):
    assert raw_request(http_host, "DELETE", "/api/items/42").status == 404
    assert raw_request(http_host, "POST", "/api/groups/g1/members").status == 200


def test_head_reaches_only_functions_that_list_head_and_has_no_body(http_host):
    response = raw_request(http_host, "HEAD", "/api/headable")
    assert response.status == 200
    assert response.header("X-Method") == ["HEAD"]
    assert response.body == b""
    assert raw_request(http_host, "HEAD", "/api/items/42").status == 404


def test_route_prefix_comes_from_host_json(queue_host):
    host = queue_host()  # host.json without extensions.http: the default prefix "api"
    assert raw_request(host, "GET", "/api/items/7").body == b"any:7"
    assert raw_request(host, "GET", "/items/7").status == 404


def test_an_empty_route_prefix_serves_functions_at_the_root(tmp_path):
    (tmp_path / "function_app.py").write_text((SAMPLE_APP / "function_app.py").read_text())
    (tmp_path / "host.json").write_text('{"version": "2.0", "extensions": {"http": {"routePrefix": ""}}}')
    with LocalHost("function_app", tmp_path, port=0) as host:
        assert raw_request(host, "GET", "/items/7").body == b"any:7"
        assert raw_request(host, "GET", "/api/items/7").status == 404


@pytest.mark.parametrize(
    ("template", "path", "values"),
    [
        ("v1/hubs/{hub}/groups/{group}", ["v1", "hubs", "chat", "groups", "g"], {"hub": "chat", "group": "g"}),
        ("v1/hubs/{hub}/groups/{group}", ["v1", "hubs", "chat", "groups"], None),
        ("v1/hubs/{hub}/groups/{group}", ["v1", "hubs", "chat", "groups", "g", "x"], None),
        ("/health/", ["HEALTH"], {}),
        ("openapi.json", ["openapi.json"], {}),
        ("", [], {}),
    ],
)
def test_templates_match_literals_and_parameters(template, path, values):
    assert parse_template(template).match(path) == values


@pytest.mark.parametrize(
    ("template", "feature"),
    [
        ("items/{id:int}", "an inline constraint"),
        ("items/{id:regex(^a/b$)}", "an inline constraint"),
        ("echo/{*rest}/more", "a catch-all parameter must be the last segment"),
        ("opt/{name?}", "an optional parameter"),
        ("def/{name=fallback}", "a default value"),
        ("files/{name}.{ext}", "a complex segment"),
        ("{a}{b}", "a complex segment"),
        ("braces/{{literal}}", "an escaped brace"),
        ("a/{b", "an unbalanced brace"),
        ("a/{b-c}", "a parameter name that is not a word"),
    ],
)
def test_a_template_feature_the_app_does_not_use_is_refused_by_name(template, feature):
    with pytest.raises(RouteTemplateError, match=feature):
        parse_template(template)


@pytest.mark.parametrize(("path", "values"), [
    ([], {}), (["a"], {"rest": "a"}), (["a", "b c", ""], {"rest": "a/b c/"}),
])
def test_a_trailing_catch_all_takes_the_rest_of_the_path_and_comes_last(path, values):
    """The app's lowest-precedence function (functions/http/fallback.py) is a {*path} catch-all."""
    template = parse_template("{*rest}")
    assert template.match(path) == values
    assert template.precedence > parse_template("{hub}/{group}/{user}").precedence
    assert parse_template("v1/{*rest}").match(["v2", "x"]) is None


@pytest.mark.parametrize("template", ["a//b", "a/{x}/{x}"])
def test_malformed_templates_are_refused(template):
    with pytest.raises(RouteTemplateError):
        parse_template(template)


def test_an_app_with_an_unsupported_route_fails_at_load_naming_the_function_and_the_feature(tmp_path):
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        "@app.route(route='ok/{name}')\n"
        "def fine(req): return func.HttpResponse('')\n"
        "@app.route(route='items/{id:int}')\n"
        "def typed_item(req): return func.HttpResponse('')\n"
    )
    (tmp_path / "host.json").write_text('{"version": "2.0"}')
    host = LocalHost("function_app", tmp_path, port=0)
    with pytest.raises(AppLoadError, match=r"function typed_item: route 'items/\{id:int\}': an inline constraint"):
        host.start()
