'use strict';
/** HTTP helpers the job benchmarks share: a server's readiness, and a job followed to its end. */
const { sleep } = require('./processes');

async function waitForHealth(base) {
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(`${base}/health`)).ok) return;
    } catch {
      // not yet listening
    }
    await sleep(50);
  }
  throw new Error('the server did not come up');
}

/** Submits a window materialization of everything in `views` (async); resolves with the job id. */
async function submitMaterialize(base, views) {
  const response = await fetch(`${base}/materialize?async=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ start_ts: '2000-01-01T00:00:00Z', end_ts: new Date(Date.now() + 3600_000).toISOString(), feature_views: views }),
  });
  if (response.status !== 202) throw new Error(`submitting the job: ${response.status} ${await response.text()}`);
  return (await response.json()).job_id;
}

async function jobState(base, id) {
  return (await (await fetch(`${base}/jobs/${id}`)).json()).state;
}

/** Polls the job until it ends; throws unless it succeeded. */
async function jobFinished(base, id) {
  for (;;) {
    const state = await jobState(base, id);
    if (state === 'succeeded') return;
    if (state !== 'queued' && state !== 'running') {
      const job = await (await fetch(`${base}/jobs/${id}`)).json();
      throw new Error(`the job ended ${state}: ${JSON.stringify(job.error)} ${JSON.stringify(job.views.map((v) => v.error).filter(Boolean))}`);
    }
    await sleep(100);
  }
}

module.exports = { waitForHealth, submitMaterialize, jobState, jobFinished };
