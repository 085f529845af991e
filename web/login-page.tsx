import { Layout } from './layout.tsx';

/** `/` without a session: the sign-in form (a tenant token), and where the API and webhooks are. */
export const LoginPage = (props: { publicUrl: string; error?: string }) => (
  <Layout title="Sign in" signedIn={false}>
    <h1>Sign in</h1>
    <p>One cross-tool work index, fed by webhooks from GitHub, Jira and email. Paste a tenant token to see its work.</p>
    {props.error ? (
      <p role="alert" class="error">
        {props.error}
      </p>
    ) : null}
    <form method="post" action="/login" class="filters">
      <label>
        Token
        <input type="password" name="token" autocomplete="off" required />
      </label>
      <button type="submit">Sign in</button>
    </form>
    <ul>
      <li>
        API reference: <a href="/openapi.json">/openapi.json</a>
      </li>
      <li>
        Work items: <code>GET {props.publicUrl}/v1/items</code> with <code>Authorization: Bearer &lt;token&gt;</code>
      </li>
      <li>
        Webhooks: <code>{props.publicUrl}/hooks/&lt;source&gt;/&lt;connectionId&gt;</code>
      </li>
    </ul>
  </Layout>
);
