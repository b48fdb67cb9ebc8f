from __future__ import annotations

import pytest

from devstack.host import LocalHost
from devstack.host.routing import RouteTemplateError, parse_template

from .helpers import SAMPLE_APP, raw_request


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/items/new", "literal"),
        ("/api/ITEMS/NEW", "literal"),
        ("/api/items/42", "int:42"),
        ("/api/items/abc", "alpha:abc"),
        ("/api/items/ab123", "regex:ab123"),
        ("/api/items/AB123", "regex:AB123"),
        ("/api/items/a-1", "any:a-1"),
        ("/api/items/99999999999", "any:99999999999"),
        ("/api/range/5", "range:5"),
        ("/api/opt", "opt:<none>"),
        ("/api/opt/x", "opt:x"),
        ("/api/def", "def:fallback"),
        ("/api/def/given", "def:given"),
        ("/api/files/report.txt", "file:report|txt"),
        ("/api/items/42/", "int:42"),
    ],
)
def test_route_templates_pick_the_most_specific_function(http_host, path, expected):
    response = raw_request(http_host, "GET", path)
    assert (response.status, response.body.decode()) == (200, expected)


def test_catch_all_receives_the_rest_of_the_path_decoded_per_segment(http_host):
    body = raw_request(http_host, "GET", "/api/echo/a/b%20c/d%2Fe").json()
    assert body["route_params"] == {"rest": "a/b c/d/e"}


def test_an_encoded_segment_arrives_as_one_decoded_route_value(http_host):
    response = raw_request(http_host, "GET", "/api/groups/a%2F..%2Fb%3Fx%3D1%23y/members")
    assert (response.status, response.body.decode()) == (200, "a/../b?x=1#y")


def test_a_segment_holding_a_line_feed_still_reaches_the_function(http_host):
    response = raw_request(http_host, "GET", "/api/groups/a%0Ab/members")
    assert (response.status, response.body.decode()) == (200, "a\nb")


@pytest.mark.parametrize(
    "path", ["/api/range/11", "/api/range/0", "/api/nothing", "/api/items", "/api/opt/x/y", "/nope"]
)
def test_unmatched_paths_and_failed_constraints_are_404(http_host, path):
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
    assert raw_request(host, "GET", "/api/items/7").body == b"int:7"
    assert raw_request(host, "GET", "/items/7").status == 404


def test_an_empty_route_prefix_serves_functions_at_the_root(tmp_path):
    (tmp_path / "function_app.py").write_text((SAMPLE_APP / "function_app.py").read_text())
    (tmp_path / "host.json").write_text('{"version": "2.0", "extensions": {"http": {"routePrefix": ""}}}')
    with LocalHost("function_app", tmp_path, port=0) as host:
        assert raw_request(host, "GET", "/items/7").body == b"int:7"
        assert raw_request(host, "GET", "/api/items/7").status == 404


@pytest.mark.parametrize(
    ("template", "path", "values"),
    [
        ("a/{b:int:min(3)}", ["a", "5"], {"b": "5"}),
        ("a/{b:int:min(3)}", ["a", "2"], None),
        ("a/{b:length(2,3)}", ["a", "abcd"], None),
        (
            "a/{b:guid}",
            ["a", "0f8fad5b-d9cb-469f-a165-70867728950e"],
            {"b": "0f8fad5b-d9cb-469f-a165-70867728950e"},
        ),
        ("a/{b:bool}", ["a", "True"], {"b": "True"}),
        ("a/{b:regex(^x{{2}}$)}", ["a", "xx"], {"b": "xx"}),
        ("a/{b:regex(^x{{2}}$)}", ["a", "xxx"], None),
        ("a/{**rest}", ["a"], {}),
        ("{x}-{y}", ["one-two"], {"x": "one", "y": "two"}),
    ],
)
def test_templates_match_like_asp_net_routing(template, path, values):
    assert parse_template(template).match(path) == values


@pytest.mark.parametrize("template", ["a/{b:nosuch}", "{*rest}/a", "a/{b", "{a}{b}"])
def test_bad_templates_are_rejected_when_indexed(template):
    with pytest.raises(RouteTemplateError):
        parse_template(template)
