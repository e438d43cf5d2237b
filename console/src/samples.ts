// Realistic sample inputs per trigger (Authing-style user and context).
const baseUser = () => ({
  id: '64f1c2a9e8b7d6c5b4a39281',
  userPoolId: '62b1f3c8a7d6e5f4c3b2a190',
  username: 'jdoe',
  email: 'jane.doe@example.com',
  emailVerified: true,
  phone: '+8613800138000',
  phoneVerified: false,
  nickname: 'Jane',
  name: 'Jane Doe',
  photo: 'https://files.authing.co/authing-console/default-user-avatar.png',
  signedUp: '2024-03-14T08:21:07.000Z',
  lastLogin: '2026-11-28T19:02:44.000Z',
  lastIP: '203.0.113.24',
  loginsCount: 42,
  blocked: false,
  roles: ['member'],
});

const request = (body: Record<string, unknown>) => ({
  ip: '203.0.113.24',
  userAgent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  hostname: 'acme.authing.cn',
  geo: { country: 'CN', province: 'Shanghai', city: 'Shanghai' },
  headers: { 'accept-language': 'en-US,en;q=0.9' },
  body,
  query: { app_id: '62b1f3c8a7d6e5f4c3b2a1ff' },
});

const app = { id: '62b1f3c8a7d6e5f4c3b2a1ff', name: 'Acme Web' };

export function sampleInput(trigger: string): { user: unknown; context: unknown } {
  const common = {
    protocol: 'password',
    connection: 'password',
    userPoolId: '62b1f3c8a7d6e5f4c3b2a190',
    userPoolName: 'Acme',
    appId: app.id,
    appName: app.name,
    app,
  };
  switch (trigger) {
    case 'pre-register': {
      const u = baseUser();
      return {
        user: { ...u, id: undefined, emailVerified: false, signedUp: null, lastLogin: null, loginsCount: 0, roles: [] },
        context: { ...common, request: request({ email: 'jane.doe@example.com', username: 'jdoe', nickname: 'Jane' }) },
      };
    }
    case 'post-register': {
      const u = baseUser();
      return {
        user: { ...u, emailVerified: false, signedUp: '2026-11-29T15:00:00.000Z', lastLogin: null, loginsCount: 0 },
        context: { ...common, request: request({ email: 'jane.doe@example.com', username: 'jdoe' }) },
      };
    }
    case 'pre-authentication':
      return { user: baseUser(), context: { ...common, request: request({ account: 'jane.doe@example.com' }) } };
    case 'post-authentication':
      return { user: baseUser(), context: { ...common, request: request({ account: 'jane.doe@example.com' }), mfa: false } };
    case 'pre-oidc-id-token-issued':
      return {
        user: baseUser(),
        context: { ...common, protocol: 'oidc', request: request({ grant_type: 'authorization_code' }), scope: 'openid profile email', tokens: { idToken: { sub: '64f1c2a9e8b7d6c5b4a39281', aud: app.id, iss: 'https://acme.authing.cn/oidc' } } },
      };
    case 'pre-oidc-access-token-issued':
      return {
        user: baseUser(),
        context: { ...common, protocol: 'oidc', request: request({ grant_type: 'authorization_code' }), scope: 'openid profile email offline_access', accessTokenTarget: 'https://api.example.com', tokens: { accessToken: { sub: '64f1c2a9e8b7d6c5b4a39281', aud: 'https://api.example.com', scope: 'openid profile email' } } },
      };
    case 'pre-complete-user-info':
      return {
        user: { ...baseUser(), phone: null, nickname: null },
        context: { ...common, request: request({ udf: [{ key: 'company', value: 'Acme Inc.' }], phone: '+8613800138000', nickname: 'Jane' }) },
      };
    default:
      return { user: baseUser(), context: { ...common, request: request({}) } };
  }
}

export function sampleText(trigger: string): string {
  return JSON.stringify(sampleInput(trigger), null, 2);
}
