import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.compose
def test_docker_compose_file_validates():
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    services = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "--services"],
                              capture_output=True, text=True, cwd=ROOT).stdout.split()
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}


@pytest.mark.compose
def test_web_and_workers_share_the_releases_folder():
    import yaml

    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
                            capture_output=True, text=True, cwd=ROOT)
    config = yaml.safe_load(result.stdout)
    releases_dir = config["services"]["web"]["environment"]["PARLEY_RELEASES_DIR"]

    def mounts(service):
        return {(v["source"], v["target"]) if isinstance(v, dict) else tuple(v.split(":")[:2])
                for v in config["services"][service].get("volumes", [])}

    assert any(target == releases_dir for _source, target in mounts("web"))
    assert mounts("web") & mounts("worker")
