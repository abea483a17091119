import { describe, expect, it } from 'vitest';
import { LicenseRegistry, urlMatchesPrefix } from '../../../functions/core/egress/license-registry.ts';
import { LicenseDenied } from '../../../functions/core/errors.ts';

describe('LicenseRegistry matches by origin, then path on a segment boundary', () => {
  const registry = new LicenseRegistry([
    { id: 'api', urlPrefix: 'https://api.example.com', license: 'CC-BY-4.0', automatedAccess: true },
    { id: 'v1', urlPrefix: 'https://data.example.com/v1', license: 'CC0-1.0', automatedAccess: true },
  ]);

  it.each([
    'https://api.example.com.evil.net/',
    'https://api.example.com.evil.net/anything',
    'https://api.example.com:8443/',
    'http://api.example.com/',
    'https://api.example.com@evil.net/',
    'https://user:pw@api.example.com/',
    'https://data.example.com/v1x/secret',
    'https://data.example.com/v1/../admin',
    'https://data.example.com/v10',
  ])('refuses %s', (url) => {
    expect(registry.sourceOf(url)).toBeUndefined();
    expect(() => registry.require(url)).toThrow(LicenseDenied);
  });

  it.each([
    ['https://api.example.com', 'api'],
    ['https://api.example.com/', 'api'],
    ['https://API.example.com:443/forecast?x=1', 'api'],
    ['https://data.example.com/v1', 'v1'],
    ['https://data.example.com/v1/', 'v1'],
    ['https://data.example.com/v1/weather.json', 'v1'],
  ])('licenses %s as %s', (url, id) => {
    expect(registry.require(url).id).toBe(id);
  });

  it('a prefix ending in / covers only what is under it', () => {
    expect(urlMatchesPrefix('https://a.example/docs/x', 'https://a.example/docs/')).toBe(true);
    expect(urlMatchesPrefix('https://a.example/docs', 'https://a.example/docs/')).toBe(false);
    expect(urlMatchesPrefix('not a url', 'https://a.example/')).toBe(false);
  });
});
