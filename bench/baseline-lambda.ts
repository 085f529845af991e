import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';

/** Baseline for the bundle figures: the smallest Hono Lambda, one route that answers 202. */
const app = new Hono();
app.post('/hooks/:source/:connectionId', (c) => c.json({ status: 'accepted' }, 202));
export const handler = handle(app);
