// Cost of turning one full page of the home timeline (100 posts with
// includes) into chat lines: the plugin's checked reading and rendering
// (readPage + renderPost) against a baseline that only parses the JSON and
// joins author and text, in the same run.
// Needs the package built: `npx tsc -b packages/plugin-twitter` (from the repository root).
import { median, result, timeIt } from '../../../bench/lib.mjs';
import { readPage, readPost } from '../dist/payload.js';
import { renderPost } from '../dist/render.js';

const PAGES = Number(process.env.TWITTER_BENCH_PAGES ?? 2000);
const users = Array.from({ length: 20 }, (_, i) => ({ id: String(1000 + i), username: `user${i}`, name: `User ${i}` }));
const data = Array.from({ length: 100 }, (_, i) => ({
  id: String(1_800_000_000_000_000_000n + BigInt(i)),
  text: `post ${i} with a link https://t.co/abc${i} &amp; a mention @user${i % 20}`,
  author_id: users[i % 20].id,
  created_at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
  edit_history_tweet_ids: [String(i)],
  entities: { urls: [{ start: 20, end: 40, url: `https://t.co/abc${i}`, expanded_url: `https://example.com/${i}`, display_url: `example.com/${i}` }] },
  ...(i % 5 === 0 ? { referenced_tweets: [{ type: 'quoted', id: '1700000000000000000' }] } : {}),
}));
const body = JSON.stringify({ data, includes: { users, tweets: [{ id: '1700000000000000000', text: 'quoted', author_id: '1000' }] }, meta: { result_count: 100, newest_id: data[0].id, oldest_id: data[99].id } });

function parley() {
  const page = readPage(JSON.parse(body), readPost);
  let n = 0;
  for (const post of page.items) n += renderPost(post, page.users.get(post.authorId)?.username ?? 'x', page).text.length;
  return n;
}

function baseline() {
  const parsed = JSON.parse(body);
  const byId = new Map(parsed.includes.users.map((u) => [u.id, u.username]));
  let n = 0;
  for (const post of parsed.data) n += `${byId.get(post.author_id)}: ${post.text}`.length;
  return n;
}

const runs = { parley: [], baseline: [] };
for (let round = 0; round < 5; round++) {
  runs.baseline.push(await timeIt(() => { for (let i = 0; i < PAGES; i++) baseline(); }));
  runs.parley.push(await timeIt(() => { for (let i = 0; i < PAGES; i++) parley(); }));
}
const perPage = (ms) => (ms * 1000) / PAGES;
result('twitter-timeline-page', perPage(median(runs.parley)), perPage(median(runs.baseline)), 'us/page', { higherIsBetter: false });
