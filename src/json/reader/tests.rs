use super::*;

#[test]
fn plain_runs_end_where_a_byte_by_byte_scan_ends() {
    let naive = |b: &[u8], mut i: usize| {
        while i < b.len() && b[i] != b'"' && b[i] != b'\\' && b[i] >= 0x20 {
            i += 1;
        }
        i
    };
    let alphabet = [
        b'a', b'"', b'\\', 0, 0x1f, 0x20, 0x21, 0x7f, 0x80, 0xff, b'#', b']',
    ];
    let mut rng = fastrand::Rng::with_seed(5);
    for _ in 0..3000 {
        let len = rng.usize(0..40);
        let b: Vec<u8> = (0..len)
            .map(|_| {
                // Mostly plain bytes, so that runs are long enough for whole words.
                if rng.u8(0..8) == 0 {
                    alphabet[rng.usize(..alphabet.len())]
                } else {
                    b'a' + rng.u8(0..26)
                }
            })
            .collect();
        for start in 0..=len {
            assert_eq!(plain_run(&b, start), naive(&b, start), "{b:?} from {start}");
        }
    }
}

/// Many objects whose keys sort differently once converted, more sequences than
/// [`Orders`] keeps, each several times: written as serde_json writes their tree.
#[test]
fn remembered_orders_sort_every_sequence_right() {
    let names = [
        "OSName",
        "OperationLocks",
        "Osx",
        "OSType",
        "Oa",
        "Ob",
        "OSA",
        "Oz",
    ];
    let mut rng = fastrand::Rng::with_seed(9);
    let objects: Vec<String> = (0..MAX_ORDERS * 3)
        .map(|_| {
            let mut keys = names.to_vec();
            rng.shuffle(&mut keys);
            keys.truncate(rng.usize(2..=names.len()));
            let members: Vec<String> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| format!("\"{k}\":{i}"))
                .collect();
            format!("{{{}}}", members.join(","))
        })
        .collect();
    let mut scratch = WriteScratch::default();
    for round in 0..3 {
        for text in &objects {
            let mut tree = Tree::new(text);
            let (root, _) = tree.read(0, 10).unwrap();
            let mut out = Vec::new();
            tree.write(root, &mut out, &mut scratch);
            let want = serde_json::to_string(&tree.to_value(root)).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                want,
                "{text}, round {round}"
            );
        }
    }
    assert_eq!(scratch.orders.known.len(), MAX_ORDERS);
}

#[test]
fn same_tells_apart_texts_that_differ_in_any_byte() {
    for n in 0..20 {
        let a: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
        assert!(same(&a, &a.clone()), "{n}");
        for at in 0..n {
            let mut b = a.clone();
            b[at] ^= 0x20;
            assert!(!same(&a, &b), "{n} bytes, differing at {at}");
        }
    }
}

/// After an object teaches the reader a sequence of keys, objects that differ from it
/// where the guess is checked (a longer key, a shorter one, an escape, a key of one more
/// word, the end of the body) are read as serde_json reads them.
#[test]
fn a_guessed_key_is_taken_only_where_the_body_has_it_whole() {
    let text = concat!(
        r#"[{"InstanceId":"a","TagKey":1,"HostNameIsLong":2},"#,
        r#"{"InstanceId":"b","TagKeys":1,"HostName":2},"#,
        r#"{"InstanceId":"c","Tag\u004bey":1,"HostNameIsLongXX":2},"#,
        r#"{"InstanceIdX":"d","TagKe":1,"HostNameIsLong":2}]"#
    );
    let mut tree = Tree::new(text);
    let (root, _) = tree.read(0, 10).unwrap();
    let expected = crate::hostvars::tests::oracle::convert(serde_json::from_str(text).unwrap());
    assert_eq!(tree.to_value(root), expected);
    let first = tree.items(root).unwrap()[0];
    let third = tree.items(root).unwrap()[2];
    assert_eq!(
        tree.members(first)[1].0,
        tree.members(third)[1].0,
        "escaped, same key"
    );
    assert_ne!(tree.members(first)[2].0, tree.members(third)[2].0);

    // A key that runs to the end of the body.
    let cut = r#"{"InstanceId":"a"}{"InstanceId"#;
    let mut tree = Tree::new(cut);
    let (_, end) = tree.read(0, 10).unwrap();
    assert_eq!(tree.read(end, 10), Err(Decline));
}

#[test]
fn keys_are_converted_once_and_ranked_by_their_text() {
    let text = r#"{"ZoneId":1,"InstanceId":2,"instance_id":3,"Zone\u0049d":4,"A":{"ZoneId":5}}"#;
    let mut tree = Tree::new(text);
    let (root, _) = tree.read(0, 10).unwrap();
    let ids: Vec<u32> = tree.members(root).iter().map(|&(k, _)| k).collect();
    assert_eq!(ids[0], ids[3], "an escaped key is the same key");
    assert_eq!(ids[1], ids[2], "keys equal once converted share an id");
    assert_eq!(tree.keys.text(ids[0]), "zone_id");
    assert!(tree.keys.rank(ids[4]) < tree.keys.rank(ids[1]));
    assert!(tree.keys.rank(ids[1]) < tree.keys.rank(ids[0]));
    assert_eq!(tree.keys.json(ids[0]), b"\"zone_id\":");
    let mut out = Vec::new();
    tree.write(root, &mut out, &mut WriteScratch::default());
    assert_eq!(out, br#"{"a":{"zone_id":5},"instance_id":3,"zone_id":4}"#);
    let name = tree.keys.known.instance_id;
    assert_eq!(tree.keys.id("instance_id"), Some(name));
    let tags = tree.keys.known.tags;
    assert_eq!(tree.keys.text(tree.keys.renamed(tags)), "ecs_tags");
    assert!(!tree.keys.is_renamed(name));
}

#[test]
fn clearing_forgets_the_values_and_keeps_the_keys() {
    let mut tree = Tree::new(r#"{"OSName":"a\"b","Ids":[1,2]}"#);
    tree.read(0, 10).unwrap();
    assert!(!tree.nodes.is_empty() && !tree.own.is_empty());
    tree.clear();
    assert!(tree.nodes.is_empty() && tree.members.is_empty());
    assert!(tree.items.is_empty() && tree.own.is_empty());
    assert!(tree.keys.id("osname").is_some());
}

/// A tree hands its keys on to the next tree of its thread, unless there are too many.
#[test]
fn keys_are_kept_for_the_next_page_up_to_a_limit() {
    drop(Keys::reuse());
    let mut tree = Tree::new(r#"{"FirstPageKey":1}"#);
    tree.read(0, 10).unwrap();
    drop(tree);
    assert!(Keys::reuse().id("first_page_key").is_some());

    let many: Vec<String> = (0..=MAX_KEPT).map(|n| format!("\"K{n}\":{n}")).collect();
    let text = format!("{{{}}}", many.join(","));
    let mut tree = Tree::new(&text);
    tree.read(0, 10).unwrap();
    assert!(tree.keys.len() > MAX_KEPT);
    drop(tree);
    let keys = Keys::reuse();
    assert_eq!(keys.id("k0"), None, "dropped with their page");
    assert_eq!(
        keys.id("instance_id"),
        Some(0),
        "new keys know the known ones"
    );
}

/// What the reader declines, serde_json refuses: so the page goes to serde_json for its
/// error, never decoded from text that is not JSON.
#[test]
fn misspelt_literals_are_declined() {
    for text in [
        "[nope]", "[nul]", "[tRue]", "[tru]", "[fAlse]", "[fals]", "[n]",
    ] {
        assert_eq!(Tree::new(text).read(0, 10), Err(Decline), "{text}");
        assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
    }
    let text = "[null,true,false]";
    let mut tree = Tree::new(text);
    let (root, end) = tree.read(0, 10).unwrap();
    assert_eq!(end, text.len());
    let mut out = Vec::new();
    tree.write(root, &mut out, &mut WriteScratch::default());
    assert_eq!(out, text.as_bytes());
}

/// Every object and array counts one level, as in serde_json's recursion limit.
#[test]
fn depth_is_counted_through_objects_and_arrays() {
    let nest =
        |open: &str, close: &str, n: usize| format!("{}1{}", open.repeat(n), close.repeat(n));
    for (open, close, levels) in [("{\"a\":", "}", 1), ("[", "]", 1), ("[{\"a\":", "}]", 2)] {
        let text = nest(open, close, 6);
        let mut tree = Tree::new(&text);
        assert_eq!(tree.read(0, 6 * levels).map(|(_, end)| end), Ok(text.len()));
        assert_eq!(
            Tree::new(&text).read(0, 6 * levels - 1),
            Err(Decline),
            "{text}"
        );
    }
}

/// Integers that u64 or i64 hold are written from the body; longer ones (and `-0`) as
/// serde_json prints them.
#[test]
fn plain_numbers_are_those_serde_json_prints_unchanged() {
    for (text, plain) in [
        ("0", true),
        ("-1", true),
        ("9999999999999999999", true),
        ("10000000000000000000", false),
        ("-999999999999999999", true),
        ("-1000000000000000000", false),
        ("-0", false),
        ("1.0", false),
        ("1e2", false),
    ] {
        let mut tree = Tree::new(text);
        let (n, _) = tree.read(0, 1).unwrap();
        let Node::Num { plain: p, .. } = tree.node(n) else {
            panic!("{text}: not a number");
        };
        assert_eq!(p, plain, "{text}");
    }
}

/// Python's truth value, numbers written any way included.
#[test]
fn truth_values_are_pythons() {
    for (text, want) in [
        ("0", false),
        ("7", true),
        ("-0", false),
        ("0.0", false),
        ("0e5", false),
        ("1.5", true),
        ("-1e2", true),
        ("10000000000000000000", true),
        ("null", false),
        ("false", false),
        ("true", true),
        ("\"\"", false),
        ("\"0\"", true),
        ("[]", false),
        ("[0]", true),
        ("{}", false),
        ("{\"A\":null}", true),
    ] {
        let mut tree = Tree::new(text);
        let (n, _) = tree.read(0, 2).unwrap();
        assert_eq!(tree.truthy(n), want, "{text}");
    }
}

/// Once [`Orders`] is full, each new sequence takes the place of another in turn: the
/// latest are all remembered.
#[test]
fn new_orders_replace_old_ones_in_turn() {
    let mut scratch = WriteScratch::default();
    let mut seqs = Vec::new();
    for n in 0..MAX_ORDERS + 3 {
        let text = format!(r#"{{"Z{n}":1,"A{n}":2}}"#);
        let mut tree = Tree::new(&text);
        let (root, _) = tree.read(0, 2).unwrap();
        let mut out = Vec::new();
        tree.write(root, &mut out, &mut scratch);
        assert_eq!(out, format!(r#"{{"a{n}":2,"z{n}":1}}"#).into_bytes());
        seqs.push(
            tree.members(root)
                .iter()
                .map(|&(k, _)| k)
                .collect::<Vec<u32>>(),
        );
    }
    assert_eq!(scratch.orders.known.len(), MAX_ORDERS);
    for seq in &seqs[MAX_ORDERS..] {
        assert!(
            scratch.orders.known.iter().any(|(s, _)| s == seq),
            "{seq:?}"
        );
    }
}
