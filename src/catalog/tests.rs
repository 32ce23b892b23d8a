use super::*;
use serde_json::json;

fn naming(strategy: Strategy) -> Naming {
    Naming {
        strategy,
        ..Naming::default()
    }
}

fn lists() -> Vec<(String, Arc<Vec<Value>>)> {
    vec![
        (
            "gitlab".into(),
            Arc::new(vec![
                json!({"name":"create_issue","description":"gl"}),
                json!({"name":"a__b"}),
            ]),
        ),
        (
            "github".into(),
            Arc::new(vec![
                json!({"name":"create_issue","description":"gh"}),
                json!({"name":"only_gh"}),
            ]),
        ),
    ]
}

#[test]
fn prefix_exposes_every_tool_and_routes_by_table() {
    let namer = Namer::new(
        naming(Strategy::Prefix),
        &["gitlab".into(), "github".into()],
    );
    let (m, collisions) = namer.merge(&lists());
    assert!(collisions.is_empty());
    assert_eq!(m.items.len(), 4);
    // A separator inside an original name does not confuse routing.
    assert_eq!(
        m.routes.get("gitlab__a__b"),
        Some(&Route {
            backend: "gitlab".into(),
            original: "a__b".into()
        })
    );
    assert_eq!(
        m.routes.get("github__create_issue").unwrap().backend,
        "github"
    );
}

#[test]
fn priority_lets_the_higher_ranked_backend_win() {
    let mut n = naming(Strategy::Priority);
    n.priority = vec!["github".into()];
    let namer = Namer::new(n, &["gitlab".into(), "github".into()]);
    let (m, collisions) = namer.merge(&lists());
    assert!(collisions.is_empty());
    assert_eq!(m.routes.get("create_issue").unwrap().backend, "github");
    assert_eq!(m.hidden.len(), 1);
    assert_eq!(m.hidden[0].backend, "gitlab");
    let def = m
        .items
        .iter()
        .find(|i| i["name"] == "create_issue")
        .unwrap();
    assert_eq!(def["description"], "gh");
}

#[test]
fn manual_reports_unresolved_collisions_and_accepts_renames() {
    let namer = Namer::new(
        naming(Strategy::Manual),
        &["gitlab".into(), "github".into()],
    );
    let (m, collisions) = namer.merge(&lists());
    assert_eq!(
        collisions,
        vec![Collision {
            exposed: "create_issue".into(),
            backends: vec!["gitlab".into(), "github".into()]
        }]
    );
    assert!(
        !m.routes.contains_key("create_issue"),
        "an unresolved name is routed nowhere"
    );
    assert_eq!(m.hidden.len(), 2);
    let mut n = naming(Strategy::Manual);
    n.rename
        .insert("gitlab/create_issue".into(), "gitlab_create_issue".into());
    let namer = Namer::new(n, &["gitlab".into(), "github".into()]);
    let (m, collisions) = namer.merge(&lists());
    assert!(collisions.is_empty());
    assert_eq!(
        m.routes.get("gitlab_create_issue").unwrap().original,
        "create_issue"
    );
    assert_eq!(m.routes.get("create_issue").unwrap().backend, "github");
}

#[test]
fn resources_collide_by_uri_with_priority() {
    let namer = Namer::new(naming(Strategy::Prefix), &["a".into(), "b".into()]);
    let lists = vec![
        ("b".into(), Arc::new(vec![json!({"uri":"x://1"})])),
        (
            "a".into(),
            Arc::new(vec![json!({"uri":"x://1"}), json!({"uri":"x://2"})]),
        ),
    ];
    let m = namer.merge_resources(&lists, "uri");
    assert_eq!(m.routes.get("x://1").unwrap().backend, "a");
    assert_eq!(m.items.len(), 2);
    assert_eq!(m.hidden.len(), 1);
}
