"""Which model files the service uses for each task.

The shipped models are the default. A model trained later (``mediawatch train
--include-reviews``) lands in its own version folder beside the others, with its card, and is
used only once someone switches to it (``mediawatch models use``): a retrained model changes
what reviewers see, so that is a decision people take, after reading both cards.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from classifier.topic_model import TASK as TOPIC_TASK
from classifier.train import TASKS

SHIPPED_MODELS = Path(__file__).with_name("models")
SHIPPED = "shipped"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$")
# Every task a version may be kept for; "topics" ships no model (the taxonomy reads topics).
REGISTERED_TASKS = (*TASKS, "risk", TOPIC_TASK)


class RegistryError(ValueError):
    """An unknown version, or a version folder that lacks the task's files."""


@dataclass(frozen=True)
class ModelVersion:
    task: str
    version: str
    directory: Path
    card: dict
    active: bool


class ModelRegistry:
    """Version folders under ``root/<task>/<version>/`` and ``root/active.json``."""

    def __init__(self, root: Path, shipped: Path = SHIPPED_MODELS) -> None:
        self.root = root
        self.shipped = shipped

    @property
    def _active_file(self) -> Path:
        return self.root / "active.json"

    def _active(self) -> dict[str, str]:
        try:
            active = json.loads(self._active_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise RegistryError(f"{self._active_file}: unreadable ({error})") from error
        if not isinstance(active, dict) or not all(
            task in REGISTERED_TASKS and isinstance(v, str) and _VERSION.match(v)
            for task, v in active.items()
        ):
            raise RegistryError(
                f"{self._active_file}: expected task names mapped to version names; "
                "fix it or switch again with 'mediawatch models use'"
            )
        return active

    @staticmethod
    def _check_task(task: str) -> None:
        if task not in REGISTERED_TASKS:
            raise RegistryError(f"unknown task '{task}'; known: {', '.join(REGISTERED_TASKS)}")

    def active_version(self, task: str) -> str:
        self._check_task(task)
        return self._active().get(task, SHIPPED)

    def directory_for(self, task: str) -> Path:
        """The folder holding the task's model files in use."""
        version = self.active_version(task)
        return self.shipped if version == SHIPPED else self.root / task / version

    def new_version_directory(self, task: str, version: str) -> Path:
        self._check_task(task)
        if not _VERSION.match(version):
            raise RegistryError(f"'{version}' is not a usable version name")
        directory = self.root / task / version
        if directory.exists():
            raise RegistryError(f"{directory} exists already; versions are never overwritten")
        directory.mkdir(parents=True)
        return directory

    def versions(self, task: str) -> list[ModelVersion]:
        """The shipped model and every trained version of the task, oldest first."""
        active = self.active_version(task)
        versions = [
            ModelVersion(
                task=task,
                version=SHIPPED,
                directory=self.shipped,
                card=_card(self.shipped, task) or {"notes": "none shipped"},
                active=active == SHIPPED,
            )
        ]
        task_root = self.root / task
        if task_root.is_dir():
            for directory in sorted(d for d in task_root.iterdir() if d.is_dir()):
                card = _card(directory, task)
                if card is not None:
                    versions.append(
                        ModelVersion(
                            task, directory.name, directory, card, directory.name == active
                        )
                    )
        return versions

    def use(self, task: str, version: str) -> ModelVersion:
        """Make ``version`` (or ``shipped``) the one the service loads for ``task``."""
        self._check_task(task)
        chosen = next((v for v in self.versions(task) if v.version == version), None)
        if chosen is None:
            known = ", ".join(v.version for v in self.versions(task)) or "none"
            raise RegistryError(f"no version '{version}' of '{task}'; known: {known}")
        active = self._active()
        if version == SHIPPED:
            active.pop(task, None)
        else:
            active[task] = version
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self._active_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(active, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(temporary, self._active_file)
        return chosen


def _card(directory: Path, task: str) -> dict | None:
    """The JSON card of the task's model in ``directory``, if there is one."""
    path = directory / f"{task}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise RegistryError(f"{path}: unreadable card ({error})") from error
