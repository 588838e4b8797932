use super::*;

const DOC_EXAMPLE: &str = r#"
grayKey: userid
rules:
- name: inner-user
  grayKeyValue:
  - '00000001'
  - '00000005'
- name: beta-user
  grayKeyValue:
  - '00000002'
  - '00000003'
  grayTagKey: level
  grayTagValue:
  - level3
  - level5
baseDeployment:
  version: base
grayDeployments:
  - name: beta-user
    version: gray
    enabled: true
"#;

#[test]
fn plugin_doc_example() {
    let c = GrayConfig::from_yaml(DOC_EXAMPLE).unwrap();
    assert_eq!(c.gray_key.as_deref(), Some("userid"));
    assert_eq!(c.rules.len(), 2);
    assert_eq!(c.base.version, "base");
    assert_eq!(c.grays.len(), 1);
    assert_eq!(c.grays[0].rule, Some(1));
    assert!(!c.percentage);
    assert!(!c.uses_uid);
    assert_eq!(c.store_max_age, DEFAULT_STORE_MAX_AGE);
    assert!(c.cookie_secure);
    assert_eq!(c.backend_gray_tag, "x-mse-tag");
    assert_eq!(c.unique_gray_tag, "x-higress-uid");
    assert_eq!(
        c.grays[0].version_cookie,
        "x-higress-tag=gray; Max-Age=31536000; Path=/; HttpOnly; Secure"
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn json_is_accepted() {
    let c = GrayConfig::from_yaml(
        r#"{"grayKey":"uid","rules":[{"name":"r","grayKeyValue":["1"]}],
            "baseDeployment":{"version":"b"},"grayDeployments":[{"name":"r","version":"g","enabled":true,"weight":30}]}"#,
    )
    .unwrap();
    assert!(c.percentage);
    assert!(c.uses_uid);
    assert_eq!(c.grays[0].bucket, (0, 30));
}

#[test]
fn unquoted_numbers_keep_their_digits() {
    let c = GrayConfig::from_yaml(
        "rules:\n- name: r\n  grayKeyValue:\n  - 00000001\n  - 42\nbaseDeployment: {version: 1.0}\n",
    )
    .unwrap();
    assert!(c.rules[0].gray_key_values.contains(&b"00000001"[..]));
    assert!(c.rules[0].gray_key_values.contains(&b"42"[..]));
    assert_eq!(c.base.version, "1.0");
}

#[test]
fn syntax_errors_have_line_and_column() {
    let e = GrayConfig::from_yaml("grayKey: userid\nrules:\n  - name: [unclosed\n").unwrap_err();
    match e {
        ConfigError::Syntax { line, column, .. } => {
            assert_eq!(line, 3);
            assert!(column >= 1);
        }
        e => panic!("{e:?}"),
    }
    let e = GrayConfig::from_yaml(
        "baseDeployment:\n  version: b\ngrayDeployments:\n  - name: x\n    weight: lots\n",
    )
    .unwrap_err();
    let s = e.to_string();
    assert!(s.starts_with("line 5, column 13: "), "{s}");
    assert!(s.contains("weight"), "{s}");
}

#[test]
fn value_errors_name_the_field() {
    let cases = [
        ("grayKey: u\n", "baseDeployment.version: is required"),
        ("baseDeployment: {}\n", "baseDeployment.version: is required"),
        (
            "baseDeployment: {version: b}\ngrayDeployments: [{name: a, version: g, enabled: true, weight: 101}]\n",
            "grayDeployments[0].weight: 101 is outside 0-100",
        ),
        (
            "baseDeployment: {version: b}\ngrayDeployments: [{name: a, version: g, enabled: true, weight: -1}]\n",
            "grayDeployments[0].weight: -1 is outside 0-100",
        ),
        (
            "baseDeployment: {version: b}\ngrayDeployments: [{name: a, version: g, enabled: true, weight: 60}, {name: c, version: h, enabled: true, weight: 50}]\n",
            "grayDeployments[1].weight: weights of enabled gray deployments sum to 110, over 100",
        ),
        ("baseDeployment: {version: b}\nindexPaths: ['/a/**', '/b/[']\n", "indexPaths[1]: invalid glob \"/b/[\""),
        ("baseDeployment: {version: b}\nskippedPaths: ['/b/{']\n", "skippedPaths[0]: invalid glob"),
        (
            "baseDeployment: {version: b}\ninjection: {globalConfig: {enabled: true, key: 'a-b'}}\n",
            "injection.globalConfig.key: \"a-b\" is not a JavaScript identifier",
        ),
        ("baseDeployment: {version: 'a;b'}\n", "baseDeployment.version: \"a;b\" contains ';'"),
        ("baseDeployment: {version: '../x'}\n", "baseDeployment.version: \"../x\" contains '/'"),
        ("baseDeployment: {version: '..'}\n", "baseDeployment.version: must not be"),
        ("baseDeployment: {version: b}\ngrayDeployments: [{name: a, enabled: true}]\n", "grayDeployments[0].version: is required"),
        ("baseDeployment: {version: b}\ngrayDeployments: [{version: a}]\n", "grayDeployments[0].name: is required"),
        ("baseDeployment: {version: b}\ncookieDomain: 'a;b'\n", "cookieDomain: "),
        ("baseDeployment: {version: b}\nstoreMaxAge: -5\n", "storeMaxAge: must not be negative"),
        ("baseDeployment: {version: b}\ngrayKey: 'a b'\n", "grayKey: \"a b\" is not a valid"),
        ("baseDeployment: {version: b}\nrewrite: {indexRouting: {app: /x}}\n", "rewrite.indexRouting.app: the path prefix"),
        ("baseDeployment: {version: b, versionPredicates: '{bad'}\n", "baseDeployment.versionPredicates: not a JSON object"),
    ];
    for (yaml, want) in cases {
        let e = GrayConfig::from_yaml(yaml).unwrap_err();
        assert!(matches!(e, ConfigError::Value { .. }), "{yaml}: {e:?}");
        assert!(
            e.to_string().starts_with(want),
            "{yaml}\n got: {e}\nwant: {want}"
        );
    }
}

#[test]
fn warnings_not_errors() {
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: b, colour: red}\ngrayKy: x\ngrayDeployments: [{name: nobody, version: g, enabled: true}]\n",
    )
    .unwrap();
    let w = c.warnings.join("\n");
    assert!(w.contains("unknown field \"grayKy\""), "{w}");
    assert!(w.contains("unknown field \"baseDeployment.colour\""), "{w}");
    assert!(
        w.contains("grayDeployments[0]: no rule named \"nobody\""),
        "{w}"
    );
}

#[test]
fn weighted_deployment_without_rule_is_fine() {
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: b}\ngrayDeployments: [{name: a, version: g1, enabled: true, weight: 20}, {name: c, version: g2, enabled: false, weight: 90}, {name: d, version: g3, enabled: true, weight: 30}]\n",
    )
    .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.grays.len(), 2);
    assert_eq!(c.grays[0].bucket, (0, 20));
    assert_eq!(c.grays[1].bucket, (20, 50));
}

#[test]
fn legacy_aliases_and_defaults() {
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: b}\nincludePathPrefixes: [/manifest]\nskippedPathPrefixes: [/api]\nlocalStorageGrayKey: token\ngrayKey: ignored\ncookieSecure: false\ncookieDomain: .example.com\nstoreMaxAge: 99\nuniqueGrayTag: uid\nbackendGrayTag: be\n",
    )
    .unwrap();
    assert!(c.index_paths.matches(b"/manifest-x.json"));
    assert!(c.skipped_paths.matches(b"/api/x"));
    assert_eq!(c.gray_key.as_deref(), Some("token"));
    assert!(c.uses_uid);
    assert_eq!(
        c.base.version_cookie,
        "x-higress-tag=b; Max-Age=99; Path=/; HttpOnly; Domain=.example.com"
    );
    assert_eq!(c.uid_cookie.prefix, "uid=");
    assert_eq!(
        c.backend_cookie_clear,
        "be=; Max-Age=0; Path=/; HttpOnly; Domain=.example.com"
    );
}

#[test]
fn routing_is_sorted_longest_first() {
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: b}\nrewrite:\n  host: cdn.example.com\n  notFoundUri: /404/{version}.html\n  fileRouting: {/: /a, /app1/: /b, /app1/x/: /c, /app2/: /d}\n",
    )
    .unwrap();
    let keys: Vec<_> = c
        .rewrite
        .file_routing
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys, ["/app1/x/", "/app1/", "/app2/", "/"]);
    assert_eq!(c.rewrite.host.as_deref(), Some("cdn.example.com"));
    assert_eq!(
        c.rewrite.not_found_uri.as_ref().unwrap().render("v"),
        "/404/v.html"
    );
}

#[test]
fn predicates_map_or_json() {
    let c = GrayConfig::from_yaml(
        "baseDeployment:\n  version: b\n  versionPredicates: {/app1/: a1, /app1/sub/: s1}\ngrayDeployments:\n- name: g\n  version: g\n  enabled: true\n  weight: 10\n  versionPredicates: '{\"/app2/\": \"a2\"}'\n",
    )
    .unwrap();
    assert_eq!(
        c.base.predicates,
        vec![
            ("/app1/sub/".into(), "s1".into()),
            ("/app1/".into(), "a1".into())
        ]
    );
    assert_eq!(c.grays[0].predicates, vec![("/app2/".into(), "a2".into())]);
}

#[test]
fn backend_cookies() {
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: b}\ngrayDeployments: [{name: g, version: g, enabled: true, weight: 10, backendVersion: v2}]\n",
    )
    .unwrap();
    assert!(c.uses_backend_cookie);
    assert_eq!(
        c.grays[0].backend_cookie.as_deref(),
        Some("x-mse-tag=v2; Max-Age=31536000; Path=/; HttpOnly; Secure")
    );
    assert_eq!(c.base.backend_cookie, None);
}

#[test]
fn global_config() {
    let c = GrayConfig::from_yaml(
        "baseDeployment: {version: b}\ninjection:\n  globalConfig: {enabled: true, value: '{\"a\": 1}'}\n",
    )
    .unwrap();
    let g = c.injection.global_config.unwrap();
    assert_eq!(g.key, DEFAULT_GLOBAL_CONFIG_KEY);
    assert_eq!(g.feature_key, DEFAULT_GLOBAL_FEATURE_KEY);
    assert_eq!(g.value_inner, "\"a\": 1");
    let off = GrayConfig::from_yaml(
        "baseDeployment: {version: b}\ninjection: {globalConfig: {key: x}}\n",
    )
    .unwrap();
    assert!(off.injection.global_config.is_none());
}

#[test]
fn long_lists_and_absurd_values() {
    let mut y = String::from("baseDeployment: {version: b}\nstoreMaxAge: 999999999999999\nrules:\n- name: r\n  grayKeyValue:\n");
    for i in 0..20_000 {
        y.push_str(&format!("  - 'u{i}'\n"));
    }
    let c = GrayConfig::from_yaml(&y).unwrap();
    assert_eq!(c.rules[0].gray_key_values.len(), 20_000);
    assert_eq!(c.store_max_age, i64::from(i32::MAX));
}

#[test]
fn garbage_never_panics() {
    for y in [
        "",
        "---",
        "[]",
        "42",
        "~",
        "\u{0}",
        "baseDeployment: [1]",
        "{{{{",
        "a: &a [*a]",
        "baseDeployment: {version: {}}",
    ] {
        let _ = GrayConfig::from_yaml(y);
    }
}

#[test]
fn cookie_path_scopes_every_cookie() {
    let c = GrayConfig::from_yaml(
        "cookiePath: /app1/\nuniqueGrayTag: u\nbaseDeployment: {version: b}\ngrayDeployments:\n- {name: g, version: g, enabled: true, backendVersion: bv}\n",
    )
    .unwrap();
    assert_eq!(c.cookie_path, "/app1/");
    assert!(c.base.version_cookie.contains("; Path=/app1/; "));
    assert!(c.grays[0]
        .backend_cookie
        .as_deref()
        .unwrap()
        .contains("; Path=/app1/; "));
    assert!(c.backend_cookie_clear.contains("; Path=/app1/; "));
    assert!(c.uid_cookie.suffix.contains("; Path=/app1/; "));
    assert_eq!(c.cookie_names(), ["x-higress-tag", "u", "x-mse-tag"]);
    let d = GrayConfig::from_yaml("baseDeployment: {version: b}\n").unwrap();
    assert!(d.base.version_cookie.contains("; Path=/; "));
    assert_eq!(d.cookie_names(), ["x-higress-tag"]);
    for bad in ["app1", "/a b", "/a;b", "/a,b"] {
        let e = GrayConfig::from_yaml(&format!(
            "cookiePath: '{bad}'\nbaseDeployment: {{version: b}}\n"
        ))
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("cookiePath: "), "{bad}: {e}");
    }
}
