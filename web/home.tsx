/** The landing page: what this hub is and where its API lives. The leaders' dashboard builds on it. */
export const homePage = ({ publicUrl }: { publicUrl: string }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <title>Tributary</title>
      <meta name="viewport" content="width=device-width, initial-scale=1" />
    </head>
    <body style="font-family: system-ui, sans-serif; max-width: 46rem; margin: 3rem auto; line-height: 1.5">
      <h1>Tributary</h1>
      <p>One cross-tool work index, fed by webhooks from GitHub, Jira and email.</p>
      <ul>
        <li>
          API reference: <a href="/openapi.json">/openapi.json</a>
        </li>
        <li>
          Work items: <code>GET {publicUrl}/v1/items</code> with <code>Authorization: Bearer &lt;token&gt;</code>
        </li>
        <li>
          Webhooks: <code>{publicUrl}/hooks/&lt;source&gt;/&lt;connectionId&gt;</code> (create a connection with{' '}
          <code>POST /v1/connections</code>)
        </li>
      </ul>
    </body>
  </html>
);
