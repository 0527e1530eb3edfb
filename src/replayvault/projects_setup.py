"""Creating projects from the CLI and the demo."""

from __future__ import annotations

from .db.models import Project
from .ingest.projects import check_project_id, create_project, rotate_write_key
from .runtime import Runtime

__all__ = ["ensure_project"]


def ensure_project(rt: Runtime, project_id: str, name: str, origins: list[str], *, rotate: bool = False) -> Project:
    """The project ``project_id``, created (with ``origins``) when missing.

    A new project, or with ``rotate=True`` an existing one, gets a fresh write key returned on
    ``project.write_key`` (set only on this object; the database keeps just its SHA-256).

    Raises:
        InvalidInput: ``project_id`` is not a valid project id.
    """
    check_project_id(project_id)
    with rt.audit.lock, rt.sessions() as db:
        project = db.get(Project, project_id)
        key = None
        created = project is None
        if project is None:
            key = create_project(db, project_id, name, origins)
            project = db.get(Project, project_id)
        elif rotate:
            key = rotate_write_key(db, project_id)
        if origins:
            project.allowed_origins = sorted({o.rstrip("/") for o in origins} | set(project.allowed_origins or []))
        if key is not None:  # key operations are audited (the key itself never is)
            rt.audit.record(actor="cli", action="project.created" if created else "project.write_key_rotated",
                            resource=f"project:{project_id}", db=db)
        db.commit()
        if key is not None:
            project.write_key = key  # type: ignore[attr-defined]
        return project
