"""Upload job status."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

from pactkb.api.auth import Principal
from pactkb.api.deps import require, state
from pactkb.api.schemas import FileResult, JobModel

router = APIRouter(tags=["jobs"])


@router.get("/jobs/{job_id}", response_model=JobModel, summary="Status of an upload")
def get_job(request: Request, job_id: str, principal: Principal = Depends(require("contributor"))) -> JobModel:
    """Status and per-file outcome; only the uploader (or an admin) can see a job, and only if their clearance covers
    every label the job touches (the labels asked for and those its documents have now); else 404 like a missing job."""
    jobs = state(request).jobs
    job = jobs.get(job_id)
    if (
        job is None
        or (job["owner"] != principal.name and not principal.can("admin"))
        or not all(principal.sees(label) for label in jobs.sensitivities(job))
    ):
        raise HTTPException(404, "job not found")
    return JobModel(
        id=job["id"],
        status=job["status"],
        created_at=job["created_at"],
        started_at=job["started_at"],
        finished_at=job["finished_at"],
        files=[FileResult(**{k: f.get(k) for k in FileResult.model_fields if k in f}) for f in job["files"]],
    )
