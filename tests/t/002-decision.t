# Deciding the version (SPEC §4). The location answers with the variables, so each block reads
# the decision directly: v=<version> d=<deployment> u=<uid>.

=== TEST 1: rule mode: allow-list by cookie, by header; cookie wins over header
--- yaml
grayKey: userid
rules:
- name: inner-user
  grayKeyValue: ['00000001', '00000005']
- name: beta-user
  grayKeyValue: ['00000002', '00000003']
  grayTagKey: level
  grayTagValue: [level3, level5]
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version d=$gray_deployment\n"; }
--- request
GET /
--- more_headers
Cookie: userid=00000002
--- response_body
v=gray d=beta-user
--- request
GET /
--- more_headers
Cookie: a=b; userid=00000003; c=d
--- response_body
v=gray d=beta-user
--- request
GET /
--- more_headers
Cookie: userid=00000001
--- response_body
v=base d=base
--- request
GET /
--- more_headers
userid: 00000002
--- response_body
v=gray d=beta-user
--- request
GET /
--- more_headers
Cookie: userid=99
userid: 00000002
--- response_body
v=base d=base
--- request
GET /
--- response_body
v=base d=base

=== TEST 2: rule mode: cookie tag
--- yaml
rules:
- name: beta-user
  grayTagKey: level
  grayTagValue: [level3, level5]
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- more_headers
Cookie: level=level5
--- response_body
v=gray
--- request
GET /
--- more_headers
Cookie: level=level4
--- response_body
v=base
--- request
GET /
--- more_headers
level: level5
--- response_body
v=base

=== TEST 3: first enabled matching deployment wins; disabled ones never match
--- yaml
grayKey: uid
rules:
- {name: a, grayKeyValue: [u1, u2]}
- {name: b, grayKeyValue: [u2, u3]}
- {name: c, grayKeyValue: [u4]}
baseDeployment: {version: base}
grayDeployments:
- {name: c, version: vc, enabled: false}
- {name: a, version: va, enabled: true}
- {name: b, version: vb, enabled: true}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- more_headers
Cookie: uid=u2
--- response_body
v=va
--- request
GET /
--- more_headers
Cookie: uid=u3
--- response_body
v=vb
--- request
GET /
--- more_headers
Cookie: uid=u4
--- response_body
v=base

=== TEST 4: graySubKey: field of URL-encoded JSON, raw value as fallback
--- yaml
grayKey: appInfo
graySubKey: userId
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- more_headers
Cookie: appInfo=%7B%22userId%22%3A%2200000002%22%2C%22name%22%3A%22x%22%7D
--- response_body
v=gray
--- request
GET /
--- more_headers
Cookie: appInfo=00000002
--- response_body
v=gray
--- request
GET /
--- more_headers
Cookie: appInfo=%7B%22userId%22%3A%2200000009%22%7D
--- response_body
v=base
--- request
GET /
--- more_headers
Cookie: appInfo=%7B%22name%22%3A%22%5Cu00e9%22%2C%22userId%22%3A%220000000%5Cu0032%22%7D
--- response_body
v=gray
--- request
GET /
--- more_headers
Cookie: appInfo=%7B%22userId%22%3A
--- response_body
v=base

=== TEST 5: percentage mode: xxh3(uid) % 100 over consecutive ranges of several weighted versions
# buckets (cargo run -p frontend-gray-core --example bucket): user2 11, user5 18, user4 20, user3 46, user1 56, user8 98
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 20}
- {name: off, version: voff, enabled: false, weight: 50}
- {name: b, version: vb, enabled: true, weight: 30}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version u=$gray_uid\n"; }
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user2
--- response_body
v=va u=user2
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user5
--- response_body
v=va u=user5
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user4
--- response_body
v=vb u=user4
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user3
--- response_body
v=vb u=user3
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user1
--- response_body
v=base u=user1
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user8
--- response_body
v=base u=user8

=== TEST 6: percentage uid: header first, then cookie; a bad header falls back to a good cookie
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 20}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version u=$gray_uid\n"; }
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user1
x-higress-uid: user2
--- response_body
v=va u=user2
--- request
GET /
--- more_headers
Cookie: x-higress-uid=user2
x-higress-uid: bad;value
--- response_body
v=va u=user2

=== TEST 7: percentage: a new or invalid uid is replaced by 32 hex digits, one per request: cookie = $gray_uid = bucket input
# 40 fresh uids: a request whose cookie, $gray_uid and bucket used different ids would be caught
# with probability 1/2 each (weight 50), so a split survives this block with odds 2^-40
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 50}
--- config
location / { frontend_gray gray.yaml; add_header X-Uid $gray_uid; add_header X-V $gray_version; root html; }
--- user_files
>>> html/index.html
page
--- request
GET /index.html
--- repeat: 40
--- response_headers_exact
X-Uid ~ [0-9a-f]{32}
Set-Cookie ~ x-higress-tag=(va|base); Max-Age=31536000; Path=/; HttpOnly; Secure
Set-Cookie ~ x-higress-uid=[0-9a-f]{32}; Max-Age=31536000; Path=/; HttpOnly; Secure
--- response_check eval
cookies(r)["x-higress-uid"] == r.values("X-Uid")[0]
cookies(r)["x-higress-tag"] == r.values("X-V")[0] == ("va" if bucket(r.values("X-Uid")[0]) < 50 else "base")
--- request
GET /index.html
--- more_headers
Cookie: x-higress-uid=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
--- repeat: 10
--- response_headers_exact
X-Uid ~ [0-9a-f]{32}
--- response_check eval
cookies(r)["x-higress-uid"] == r.values("X-Uid")[0]
cookies(r)["x-higress-tag"] == r.values("X-V")[0] == ("va" if bucket(r.values("X-Uid")[0]) < 50 else "base")
--- request
GET /index.html
--- more_headers
Cookie: x-higress-uid=a.b
--- repeat: 10
--- response_headers_exact
X-Uid ~ [0-9a-f]{32}
--- response_check eval
cookies(r)["x-higress-uid"] == r.values("X-Uid")[0]
cookies(r)["x-higress-tag"] == r.values("X-V")[0] == ("va" if bucket(r.values("X-Uid")[0]) < 50 else "base")
--- request
GET /index.html
--- more_headers
Cookie: x-higress-uid=user1
--- response_headers_exact
X-Uid: user1
X-V: base
--- request
GET /index.html
--- more_headers
Cookie: x-higress-uid=user3
--- response_headers_exact
X-Uid: user3
X-V: va

=== TEST 8: percentage overrides rules
--- yaml
grayKey: userid
rules:
- {name: a, grayKeyValue: [user1]}
baseDeployment: {version: base}
grayDeployments:
- {name: a, version: va, enabled: true, weight: 20}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /
--- more_headers
Cookie: userid=user1; x-higress-uid=user1
--- response_body
v=base

=== TEST 9: assets are sticky to the x-higress-tag cookie; entries decide afresh; unknown versions ignored
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
- {name: old, version: retired, enabled: false}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /js/app.js
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
v=gray
--- request
GET /js/app.js
--- more_headers
Cookie: x-higress-tag=base; userid=u1
--- response_body
v=base
--- request
GET /
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
v=base
--- request
GET /js/app.js
--- more_headers
Cookie: x-higress-tag=retired; userid=u1
--- response_body
v=gray
--- request
GET /js/app.js
--- more_headers
Cookie: x-higress-tag=nonsense
--- response_body
v=base

=== TEST 9a: indexPaths requests (manifests) decide afresh, whatever the x-higress-tag cookie says
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment: {version: base}
grayDeployments:
- {name: beta, version: gray, enabled: true}
indexPaths: ['/**/manifest.json']
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /app1/manifest.json
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
v=base
--- request
GET /app1/manifest.json
--- more_headers
Cookie: x-higress-tag=base; userid=u1
--- response_body
v=gray
--- request
GET /app1/other.json
--- more_headers
Cookie: x-higress-tag=gray
--- response_body
v=gray

=== TEST 10: when the module acts (indexPaths, skippedPaths, HTML, skippedByHeaders)
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: g, enabled: true, weight: 0}
indexPaths: ['/app1/**/manifest.json']
skippedPaths: ['/api/**', '/app1/**']
skippedByHeaders: {x-requested-with: XMLHttpRequest}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /app1/manifest.json
--- response_body
v=base
--- request
GET /app1/a/b/manifest.json
--- response_body
v=base
--- request
GET /api
--- response_body
v=
--- request
GET /api/users?x=1
--- response_body
v=
--- request
GET /app1/a.js
--- response_body
v=
--- request
GET /x/a.js
--- more_headers
X-Requested-With: XMLHttpRequest
--- response_body
v=
--- request
GET /x/page
--- more_headers
X-Requested-With: XMLHttpRequest
--- response_body
v=base
--- request
GET /x/a.js
--- response_body
v=base

=== TEST 11: nothing to do for assets without routing or enabled gray deployments
--- yaml
baseDeployment: {version: base}
grayDeployments:
- {name: g, version: g, enabled: false}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET /a.js
--- response_body
v=
--- request
GET /index.php
--- response_body
v=base

=== TEST 12: rewrite.host alone makes the module act on assets, before skippedByHeaders
--- yaml
baseDeployment: {version: base}
rewrite: {host: cdn.example.com}
skippedByHeaders: {x-skip: "1"}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version h=$gray_host\n"; }
--- request
GET /a.css
--- more_headers
x-skip: 1
--- response_body
v=base h=cdn.example.com

=== TEST 13: HTML detection by path
--- yaml
baseDeployment: {version: base}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request eval
"GET /app1/"
--- response_body
v=base
--- request
GET /a/b.HTML
--- response_body
v=base
--- request
GET /x.aspx
--- response_body
v=base
--- request
GET /x.twig
--- response_body
v=base
--- request
GET /a.png
--- response_body
v=

=== TEST 14: versionPredicates pick the version of non-HTML requests by longest prefix
--- yaml
baseDeployment:
  version: base
  versionPredicates: {/app1/: app1-v1, /app1/sub/: sub-v2}
indexPaths: ['/**/manifest.json']
rewrite:
  fileRouting: {/: '/mfe/{version}'}
--- config
location / { frontend_gray gray.yaml; try_files /.none @out; }
location @out { return 200 "v=$gray_version uri=$uri\n"; }
--- request
GET /app1/a.js
--- response_body
v=app1-v1 uri=/mfe/app1-v1/app1/a.js
--- request
GET /app1/sub/manifest.json
--- response_body
v=sub-v2 uri=/mfe/sub-v2/app1/sub/manifest.json
--- request
GET /app2/a.js
--- response_body
v=base uri=/mfe/base/app2/a.js
--- request
GET /app1/
--- response_body
v=base uri=/app1/

=== TEST 15: path is cleaned before matching
--- yaml
baseDeployment: {version: base}
skippedPaths: ['/api/**']
grayDeployments:
- {name: g, version: g, enabled: true, weight: 0}
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version\n"; }
--- request
GET //x/../api//users.json
--- response_body
v=
--- request
GET /api/./../x.json
--- response_body
v=base

=== TEST 16: versionPredicates of a gray deployment: its users' assets and manifests, not its entries, not base users
--- yaml
grayKey: userid
rules:
- {name: beta, grayKeyValue: [u1]}
baseDeployment:
  version: base
  versionPredicates: {/app1/: app1-base}
grayDeployments:
- name: beta
  version: gray
  enabled: true
  versionPredicates: {/app1/: app1-gray, /app1/sub/: sub-gray}
indexPaths: ['/**/manifest.json']
--- config
location / { frontend_gray gray.yaml; return 200 "v=$gray_version d=$gray_deployment\n"; }
--- request
GET /app1/a.js
--- more_headers
Cookie: userid=u1
--- response_body
v=app1-gray d=beta
--- request
GET /app1/sub/manifest.json
--- more_headers
Cookie: userid=u1
--- response_body
v=sub-gray d=beta
--- request
GET /app2/a.js
--- more_headers
Cookie: userid=u1
--- response_body
v=gray d=beta
--- request
GET /app1/page
--- more_headers
Cookie: userid=u1
--- response_body
v=gray d=beta
--- request
GET /app1/sub/a.js
--- response_body
v=app1-base d=base
