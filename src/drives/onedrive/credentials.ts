import { existsSync } from 'node:fs';
import type { AccessToken, AuthenticationError, TokenCredential } from '@azure/identity';
import { VmbError } from '../../errors/vmb-error.js';
import type { OneDriveConfig } from '../../types.js';

/**
 * Where Graph tokens come from, chosen once per thread, in this order:
 * 1. `config.staticToken` (VMB_GRAPH_TOKEN): used as is, never refreshed.
 * 2. A `TokenCredential` the caller injects (tests: MSAL refuses plain-http authorities).
 * 3. AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET: ClientSecretCredential.
 * 4. AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_CERTIFICATE_PATH (PEM with key and
 *    certificate; AZURE_CLIENT_CERTIFICATE_PASSWORD, AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=1
 *    optional): ClientCertificateCredential.
 * 5. VMB_MANAGED_IDENTITY=1: ManagedIdentityCredential (user-assigned when AZURE_CLIENT_ID is set).
 * Picked explicitly rather than through EnvironmentCredential/DefaultAzureCredential so that a
 * cron job never falls through to a developer's az login, and so `describeMissingCredentials`
 * agrees exactly with what will be built.
 */

export interface TokenProvider {
  /** A bearer token for Graph, cached until a few minutes before it expires. */
  token(): Promise<string>;
  /** False for a static token: asking again after a 401 would give the same token. */
  readonly refreshable: boolean;
  /** Drops the cached token (Graph answered 401), so the next `token()` asks again. */
  invalidate(): void;
  /** Values that must never appear in an error or a log line. */
  secrets(): string[];
}

export interface CredentialOptions {
  credential?: TokenCredential;
  env?: NodeJS.ProcessEnv;
}

type Env = NodeJS.ProcessEnv;

const REFRESH_MARGIN_MS = 5 * 60_000;

/** National clouds (docs/graph-facts.md §1): a token only works in the cloud that issued it. */
const AUTHORITY_BY_GRAPH_HOST: Readonly<Record<string, string>> = {
  'graph.microsoft.us': 'https://login.microsoftonline.us',
  'dod-graph.microsoft.us': 'https://login.microsoftonline.us',
  'microsoftgraph.chinacloudapi.cn': 'https://login.chinacloudapi.cn',
};

/** `<graph origin>/.default`: every application permission consented for that cloud's Graph. */
export function graphScope(graphUrl: string): string {
  return `${new URL(graphUrl).origin}/.default`;
}

const isSet = (value: string | undefined): value is string => value !== undefined && value.trim() !== '';
const managedIdentityWanted = (env: Env) => ['1', 'true', 'yes'].includes((env.VMB_MANAGED_IDENTITY ?? '').trim().toLowerCase());

/** One line saying what to set, or null when a usable credential is configured. */
export function describeMissingCredentials(env: Env = process.env): string | null {
  if (isSet(env.VMB_GRAPH_TOKEN)) return null;
  const secretVar = isSet(env.AZURE_CLIENT_SECRET) ? 'AZURE_CLIENT_SECRET' : isSet(env.AZURE_CLIENT_CERTIFICATE_PATH) ? 'AZURE_CLIENT_CERTIFICATE_PATH' : null;
  if (secretVar !== null) {
    const missing = (['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'] as const).filter((name) => !isSet(env[name]));
    if (missing.length > 0) return `${secretVar} is set but ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not`;
    if (secretVar === 'AZURE_CLIENT_CERTIFICATE_PATH' && !existsSync(env.AZURE_CLIENT_CERTIFICATE_PATH!)) {
      return `AZURE_CLIENT_CERTIFICATE_PATH names ${env.AZURE_CLIENT_CERTIFICATE_PATH}, which does not exist`;
    }
    return null;
  }
  if (managedIdentityWanted(env)) return null;
  if (isSet(env.AZURE_TENANT_ID) && isSet(env.AZURE_CLIENT_ID)) {
    return 'AZURE_TENANT_ID and AZURE_CLIENT_ID are set but neither AZURE_CLIENT_SECRET nor AZURE_CLIENT_CERTIFICATE_PATH is (or set VMB_MANAGED_IDENTITY=1)';
  }
  return (
    'no Graph credentials: set VMB_GRAPH_TOKEN, or AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET ' +
    '(or AZURE_CLIENT_CERTIFICATE_PATH), or VMB_MANAGED_IDENTITY=1 on an Azure host'
  );
}

function authorityHostFor(config: Pick<OneDriveConfig, 'graphUrl' | 'authorityHost'>, env: Env): string | undefined {
  return config.authorityHost ?? (isSet(env.AZURE_AUTHORITY_HOST) ? env.AZURE_AUTHORITY_HOST : AUTHORITY_BY_GRAPH_HOST[new URL(config.graphUrl).hostname]);
}

/** Checked when the target is built, so a missing secret is a configuration error at once. */
function assertCredentialsPresent(env: Env): void {
  // The static token reaches a thread as `config.staticToken`, never from its environment.
  const missing = describeMissingCredentials({ ...env, VMB_GRAPH_TOKEN: undefined });
  if (missing !== null) throw new VmbError('fatal', 'credentials-missing', missing);
}

/**
 * @azure/identity (with MSAL) takes about a second to load; it is imported only by a thread that
 * really signs in, not by every thread of a local or static-token run.
 */
async function credentialFromEnv(config: Pick<OneDriveConfig, 'graphUrl' | 'authorityHost'>, env: Env): Promise<TokenCredential> {
  const { ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential } = await import('@azure/identity');
  const authorityHost = authorityHostFor(config, env);
  const tenantId = env.AZURE_TENANT_ID;
  const clientId = env.AZURE_CLIENT_ID;
  if (isSet(tenantId) && isSet(clientId)) {
    if (isSet(env.AZURE_CLIENT_SECRET)) return new ClientSecretCredential(tenantId, clientId, env.AZURE_CLIENT_SECRET, { authorityHost });
    return new ClientCertificateCredential(
      tenantId,
      clientId,
      { certificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH!, certificatePassword: env.AZURE_CLIENT_CERTIFICATE_PASSWORD },
      { authorityHost, sendCertificateChain: ['1', 'true'].includes((env.AZURE_CLIENT_SEND_CERTIFICATE_CHAIN ?? '').toLowerCase()) },
    );
  }
  return new ManagedIdentityCredential(isSet(clientId) ? { clientId } : {});
}

export function createTokenProvider(
  config: Pick<OneDriveConfig, 'graphUrl' | 'authorityHost' | 'staticToken'>,
  options: CredentialOptions = {},
): TokenProvider {
  const env = options.env ?? process.env;
  const envSecrets = [env.AZURE_CLIENT_SECRET, env.AZURE_CLIENT_CERTIFICATE_PASSWORD, env.VMB_GRAPH_TOKEN].filter(isSet);
  if (isSet(config.staticToken)) return new StaticTokenProvider(config.staticToken, envSecrets);
  const injected = options.credential;
  if (injected === undefined) assertCredentialsPresent(env);
  const credential = injected ? () => Promise.resolve(injected) : () => credentialFromEnv(config, env);
  return new CachedTokenProvider(credential, graphScope(config.graphUrl), envSecrets);
}

class StaticTokenProvider implements TokenProvider {
  readonly refreshable = false;

  constructor(
    private readonly value: string,
    private readonly envSecrets: string[],
  ) {}

  async token(): Promise<string> {
    return this.value;
  }

  invalidate(): void {}

  secrets(): string[] {
    return [this.value, ...this.envSecrets];
  }
}

class CachedTokenProvider implements TokenProvider {
  readonly refreshable = true;
  private cached: { token: string; refreshAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private credential: Promise<TokenCredential> | undefined;

  constructor(
    private readonly makeCredential: () => Promise<TokenCredential>,
    private readonly scope: string,
    private readonly envSecrets: string[],
  ) {}

  token(): Promise<string> {
    if (this.cached !== undefined && Date.now() < this.cached.refreshAt) return Promise.resolve(this.cached.token);
    this.pending ??= this.fetch().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  secrets(): string[] {
    return this.cached === undefined ? this.envSecrets : [this.cached.token, ...this.envSecrets];
  }

  private async fetch(): Promise<string> {
    let access: AccessToken | null;
    try {
      this.credential ??= this.makeCredential();
      access = await (await this.credential).getToken(this.scope);
    } catch (err) {
      throw this.tokenError(err);
    }
    if (access === null) throw new VmbError('fatal', 'auth-failed', `the credential returned no token for ${this.scope}`);
    const now = Date.now();
    // Half the lifetime when it is short, so a short-lived token is not fetched for every request.
    const margin = Math.min(REFRESH_MARGIN_MS, (access.expiresOnTimestamp - now) / 2);
    this.cached = { token: access.token, refreshAt: Math.min(access.refreshAfterTimestamp ?? Infinity, access.expiresOnTimestamp - margin) };
    return access.token;
  }

  /** A refused or unavailable credential stops the run; anything else (network, 5xx) may pass. */
  private tokenError(err: unknown): VmbError {
    const message = redact(err instanceof Error ? err.message.split('\n')[0] : String(err), this.envSecrets);
    // Matched by name: the classes live in the lazily imported @azure/identity.
    const name = err instanceof Error ? err.name : '';
    if (name === 'AuthenticationError') {
      const auth = err as AuthenticationError;
      if (auth.statusCode >= 400 && auth.statusCode < 500) {
        return new VmbError('fatal', 'auth-failed', `the identity platform refused the credentials (${auth.errorResponse.error}): ${message}`);
      }
    }
    if (name === 'CredentialUnavailableError') return new VmbError('fatal', 'auth-unavailable', `no token available: ${message}`);
    return new VmbError('retryable', 'auth-network-error', `could not get a Graph token: ${message}`);
  }
}

const MIN_SECRET_LENGTH = 4;

/**
 * Removes bearer tokens, upload-URL `tempauth` values and any of `secrets` from `text`, for
 * anything that goes into an error message or a log line.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/(tempauth=)[^&\s"'<>]+/gi, '$1[redacted]').replace(/(bearer\s+)[^\s"',;]+/gi, '$1[redacted]');
  for (const secret of secrets) {
    if (secret.length >= MIN_SECRET_LENGTH) out = out.split(secret).join('[redacted]');
  }
  return out;
}
