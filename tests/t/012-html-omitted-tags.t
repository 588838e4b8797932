# Placement like a browser's parser (SPEC §6, last bullet): pages whose optional <head> /
# <body> tags are omitted (as minifiers leave them), and tokenizer cases where a simpler
# scanner would place a snippet where a browser does not. Every block has head, body.first,
# body.last, the global config and the localStorage script configured; LS below stands for
# the localStorage script, GC for the global config.

=== TEST 1: <html><title>…<body>: no <head>, no </head>: GC + head snippet before <body>
--- yaml
grayKey: userid
localStorageGrayKey: token
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first></i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<!DOCTYPE html><html><title>x</title><body><div id=app></div></body></html>
--- request
GET /index.html
--- response_body_like
^<!DOCTYPE html><html><title>x</title><script>var CFG = \{FEAT: \{"beta-user": false\}, "release": "base"\};</script><meta name="v" content="base"><body><script>\(function\(\)\{var grayKey='token';[^\n]*?</script><i id=first></i><div id=app></div><i id=last></i></body></html>\n$

=== TEST 2: no html, head or body tag at all: head snippets where the head ends, body.first and LS where the body begins, body.last at the end
--- yaml
grayKey: userid
localStorageGrayKey: token
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first></i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<!doctype html><meta charset=utf-8><title>x</title>
<!-- a comment and blanks stay in the head -->
<div id=app></div><script src=/app.js></script>
--- request
GET /index.html
--- response_body_like
^<!doctype html><meta charset=utf-8><title>x</title>\n<!-- a comment and blanks stay in the head -->\n<script>var CFG = \{FEAT: \{"beta-user": false\}, "release": "base"\};</script><meta name="v" content="base"><script>\(function\(\)\{var grayKey='token';[^\n]*?</script><i id=first></i><div id=app></div><script src=/app.js></script>\n<i id=last></i>$

=== TEST 3: </body> inside CDATA of <svg> is text: body.last before the real </body>
--- yaml
grayKey: userid
localStorageGrayKey: token
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first></i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head></head><body><svg><script><![CDATA[ if (a > b) s = "</body>"; ]]></script><style/></svg><p>x</p></body></html>
--- request
GET /index.html
--- response_body_like
^<html><head><script>var CFG = \{FEAT: \{"beta-user": false\}, "release": "base"\};</script><meta name="v" content="base"></head><body><script>\(function\(\)\{var grayKey='token';[^\n]*?</script><i id=first></i><svg><script><!\[CDATA\[ if \(a > b\) s = "</body>"; \]\]></script><style/></svg><p>x</p><i id=last></i></body></html>\n$

=== TEST 4: an inert <template> in the head: nothing placed inside it
--- yaml
grayKey: userid
localStorageGrayKey: token
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first></i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head><template><body><p>t</p></body></head></template></head><body><p>x</p></body></html>
--- request
GET /index.html
--- response_body_like
^<html><head><script>var CFG = [^\n]*?</script><template><body><p>t</p></body></head></template><meta name="v" content="base"></head><body><script>\(function\(\)\{var grayKey='token';[^\n]*?</script><i id=first></i><p>x</p><i id=last></i></body></html>\n$

=== TEST 5: a comment closed by --!> does not hide the real <body>
--- yaml
grayKey: userid
localStorageGrayKey: token
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first></i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head></head><!-- x --!><body><p>x</p><!-- y --></body></html>
--- request
GET /index.html
--- response_body_like
^<html><head><script>var CFG = [^\n]*?</script><meta name="v" content="base"></head><!-- x --!><body><script>\(function\(\)\{var grayKey='token';[^\n]*?</script><i id=first></i><p>x</p><!-- y --><i id=last></i></body></html>\n$

=== TEST 6: a double-escaped script: its "</head>" is script text
--- yaml
grayKey: userid
localStorageGrayKey: token
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first></i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<html><head><script><!-- document.write("<script>x()</script>"); var s="</head>"; --></script></head><body><a title=a=">x</a></body></html>
--- request
GET /index.html
--- response_body_like
^<html><head><script>var CFG = [^\n]*?</script><script><!-- document.write\("<script>x\(\)</script>"\); var s="</head>"; --></script><meta name="v" content="base"></head><body><script>\(function\(\)\{var grayKey='token';[^\n]*?</script><i id=first></i><a title=a=">x</a><i id=last></i></body></html>\n$

=== TEST 7: omitted tags in a page streamed in small pieces from an origin: the same bytes
--- yaml
grayKey: userid
localStorageGrayKey: token
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first></i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- origin_chunks eval
[b"<!doctype html><meta charset=utf-8><ti", b"tle>x</title>\n ", b" <di", b"v id=app></div>"]
--- config
location / { frontend_gray gray.yaml; proxy_pass http://127.0.0.1:$TEST_NGINX_CHUNK_PORT; }
--- request
GET /
--- response_body_like
^<!doctype html><meta charset=utf-8><title>x</title>\n  <script>var CFG = [^\n]*?</script><meta name="v" content="base"><script>\(function\(\)\{var grayKey='token';[^\n]*?</script><i id=first></i><div id=app></div><i id=last></i>$

=== TEST 8: text ends the head: blanks and comments do not, the first other character does
--- yaml
grayKey: userid
localStorageGrayKey: token
rules:
- {name: beta-user, grayKeyValue: ['00000002']}
baseDeployment: {version: base}
grayDeployments:
- {name: beta-user, version: gray, enabled: true}
injection:
  head: ['<meta name="v" content="{version}">']
  body:
    first: ['<i id=first></i>']
    last: ['<i id=last></i>']
  globalConfig: {enabled: true, key: CFG, featureKey: FEAT, value: '{"release": "{version}"}'}
--- config
location / { frontend_gray gray.yaml; root html; }
--- user_files
>>> html/index.html
<title>x</title> <!-- c -->
  Hello <b>world</b>
--- request
GET /index.html
--- response_body_like
^<title>x</title> <!-- c -->\n  <script>var CFG = [^\n]*?</script><meta name="v" content="base"><script>\(function\(\)\{var grayKey='token';[^\n]*?</script><i id=first></i>Hello <b>world</b>\n<i id=last></i>$
