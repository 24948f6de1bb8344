"""Upload job status."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from pactkb.api.auth import Principal
from pactkb.api.deps import require, state
from pactkb.api.schemas import FileResult, JobModel

router = APIRouter(tags=["jobs"])


@router.get("/jobs/{job_id}", response_model=JobModel, summary="Status of an upload")
def get_job(request: Request, job_id: str, principal: Principal = Depends(require("contributor"))) -> JobModel:
    """Status and per-file outcome; only the uploader (or an admin) can see a job."""
    job = state(request).jobs.get(job_id)
    if job is None or (job["owner"] != principal.name and not principal.can("admin")):
        raise HTTPException(404, "job not found")
    return JobModel(id=job["id"], status=job["status"], created_at=job["created_at"], started_at=job["started_at"],
                    finished_at=job["finished_at"], files=[FileResult(**f) for f in job["files"]])
