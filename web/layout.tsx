import type { Child } from 'hono/jsx';
import { STYLESHEET_PATH } from './stylesheet.ts';

/**
 * Every page's frame: the site header (navigation, the search box, sign-out) and the main region.
 * Server-rendered, no script: every value goes through hono/jsx, which escapes text and attributes
 * (titles and bodies come from the tools and are attacker-controlled). Styles come from the hub's
 * stylesheet only, so the Content-Security-Policy allows no inline style.
 */
export const Layout = (props: { title: string; signedIn: boolean; query?: string; children?: Child }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{props.title} · Tributary</title>
      <link rel="stylesheet" href={STYLESHEET_PATH} />
    </head>
    <body>
      <header class="site">
        <a class="brand" href="/">
          Tributary
        </a>
        {props.signedIn ? (
          <>
            <nav aria-label="main">
              <ul>
                <li>
                  <a href="/">Overview</a>
                </li>
                <li>
                  <a href="/items">Items</a>
                </li>
                <li>
                  <a href="/alerts">Alerts</a>
                </li>
                <li>
                  <a href="/people">People</a>
                </li>
              </ul>
            </nav>
            <form role="search" method="get" action="/items">
              <label for="search-q" class="visually-hidden">
                Find an item by key, owner/repo#number or title words
              </label>
              <input id="search-q" type="search" name="q" value={props.query ?? ''} placeholder="ACME-42, octo/api#12, words" />
              <button type="submit">Find</button>
            </form>
            <form method="post" action="/logout">
              <button type="submit">Sign out</button>
            </form>
          </>
        ) : null}
      </header>
      <main>{props.children}</main>
    </body>
  </html>
);
