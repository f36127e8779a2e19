'use strict';
const path = require('node:path');

/** Where the quickstart keeps its lake and stores (the demo scripts share it). */
const STATE = path.resolve(process.env.QUICKSTART_STATE_DIR || path.join(__dirname, '..', '..', '.featurelake'));

/** The environment that points the featurelake CLI at that state, on the embedded defaults. */
const STATE_ENV = {
  ...process.env,
  FEATURELAKE_LAKE_URI: `file://${path.join(STATE, 'lake')}`,
  FEATURELAKE_ONLINE_TYPE: 'embedded',
  FEATURELAKE_ONLINE_PATH: path.join(STATE, 'online.duckdb'),
  FEATURELAKE_STATE_DIR: STATE,
};

module.exports = { STATE, STATE_ENV };
