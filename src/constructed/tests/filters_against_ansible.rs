//! Every filter and test of docs/DESIGN.md "Filters and tests" on one host's variables,
//! against what Ansible gives. The expected values were made by running each expression
//! through ansible-core 2.19.14's and 2.21.5's `Templar.evaluate_expression` (what the
//! constructed plugin's `compose` calls) over `VARS`, in each version's venv:
//!
//! ```text
//! from ansible.template import Templar, trust_as_template
//! from ansible.parsing.dataloader import DataLoader
//! from ansible.module_utils._internal._json._profiles import _tagless
//! t = Templar(loader=DataLoader(), variables=json.loads(VARS))
//! json.dumps(t.evaluate_expression(trust_as_template(expr)), cls=_tagless.Encoder)
//! ```
//!
//! Both versions gave the same text for all of them. `None`: Ansible fails on it, so the
//! variable is not set (strict off).

use super::*;

const VARS: &str = r###"{"name": "web-01", "tags": {"env": "prod", "role": "web", "zone": "Z"}, "ids": ["i-b", "i-a", "i-c", "i-a"], "cpu": 4, "mem": 8192, "size": 1.5, "url": "https://User:pw@Example.com:8443/a/b.txt?x=1#frag", "path": "/var/lib/../log/app.tar.gz", "nested": [[1, [2, [3]]], null, [4], "null"], "disks": [{"id": "d1", "tags": ["a", "b"], "size": 40}, {"id": "d2", "tags": ["c"], "size": 20}], "ver": "2.19.1", "empty": "", "b64": "aGVsbG8gw6k=", "jtext": "{\"a\": [1, 2.5, null], \"b\": true, \"c\": \"\\u00e9\"}", "uni": "caf\u00e9 \"q\" \\ \n", "nums": [3, 1, 2], "flag": "yes", "zero": 0}"###;

const CASES: &[(&str, Option<&str>)] = &[
    (
        r###"tags | to_json"###,
        Some(r###""{\"env\": \"prod\", \"role\": \"web\", \"zone\": \"Z\"}""###),
    ),
    (
        r###"{'b': 1, 'a': [1, 2.5, none, true], 'c': uni} | to_json"###,
        Some(
            r###""{\"b\": 1, \"a\": [1, 2.5, null, true], \"c\": \"caf\\u00e9 \\\"q\\\" \\\\ \\n\"}""###,
        ),
    ),
    (
        r###"tags | to_json(sort_keys=true)"###,
        Some(r###""{\"env\": \"prod\", \"role\": \"web\", \"zone\": \"Z\"}""###),
    ),
    (
        r###"tags | to_json(indent=2)"###,
        Some(r###""{\n  \"env\": \"prod\",\n  \"role\": \"web\",\n  \"zone\": \"Z\"\n}""###),
    ),
    (
        r###"uni | to_json(ensure_ascii=false)"###,
        Some(r###""\"caf\u00e9 \\\"q\\\" \\\\ \\n\"""###),
    ),
    (
        r###"disks | to_nice_json"###,
        Some(
            r###""[\n    {\n        \"id\": \"d1\",\n        \"size\": 40,\n        \"tags\": [\n            \"a\",\n            \"b\"\n        ]\n    },\n    {\n        \"id\": \"d2\",\n        \"size\": 20,\n        \"tags\": [\n            \"c\"\n        ]\n    }\n]""###,
        ),
    ),
    (
        r###"tags | to_nice_json(indent=2)"###,
        Some(r###""{\n  \"env\": \"prod\",\n  \"role\": \"web\",\n  \"zone\": \"Z\"\n}""###),
    ),
    (r###"[] | to_nice_json"###, Some(r###""[]""###)),
    (r###"{} | to_json"###, Some(r###""{}""###)),
    (r###"1e300 * 10 | to_json"###, None),
    (
        r###"jtext | from_json"###,
        Some(r###"{"a": [1, 2.5, null], "b": true, "c": "\u00e9"}"###),
    ),
    (r###"(jtext | from_json).c"###, Some(r###""\u00e9""###)),
    (r###"nested | flatten"###, Some(r###"[1, 2, 3, 4]"###)),
    (
        r###"nested | flatten(levels=1)"###,
        Some(r###"[1, [2, [3]], 4]"###),
    ),
    (
        r###"nested | flatten(skip_nulls=false)"###,
        Some(r###"[1, 2, 3, null, 4, "null"]"###),
    ),
    (
        r###"name | hash"###,
        Some(r###""c6bbc9fd715fe76cae39ab527fabac6c329716c3""###),
    ),
    (
        r###"name | hash('md5')"###,
        Some(r###""9e795e3c83f0a95aee9e9cd5928adc56""###),
    ),
    (
        r###"name | hash('sha256')"###,
        Some(r###""0b9d9f06cc8cf44765a12c0aa01a6e2217130979f4dfeda24e22b0af7e8d237e""###),
    ),
    (
        r###"name | hash('sha512')"###,
        Some(
            r###""a515e73f92e0503b314ce1f769a19b820f54688016a9bfbe6632e31db2bc2f1d580ce4665465e718cba724937da95e51ee3fb8325a554080a598f8f4518d545a""###,
        ),
    ),
    (
        r###"name | hash('sha224')"###,
        Some(r###""4163ae7273653deef0a6ab319b3dab63d497db9e8d5339bdf1816566""###),
    ),
    (
        r###"name | hash('sha384')"###,
        Some(
            r###""363aae6bcf1d2efd642b239889e654728da7caef7d5c3315b6d97279eaf74baed958d905ef9bfc11837723dadfb7435e""###,
        ),
    ),
    (
        r###"name | sha1"###,
        Some(r###""c6bbc9fd715fe76cae39ab527fabac6c329716c3""###),
    ),
    (
        r###"name | md5"###,
        Some(r###""9e795e3c83f0a95aee9e9cd5928adc56""###),
    ),
    (
        r###"name | checksum"###,
        Some(r###""c6bbc9fd715fe76cae39ab527fabac6c329716c3""###),
    ),
    (
        r###"cpu | sha1"###,
        Some(r###""1b6453892473a467d07372d45eb05abc2031647a""###),
    ),
    (
        r###"uni | b64encode"###,
        Some(r###""Y2Fmw6kgInEiIFwgCg==""###),
    ),
    (
        r###"'a?>b' | b64encode(urlsafe=true)"###,
        Some(r###""YT8-Yg==""###),
    ),
    (r###"b64 | b64decode"###, Some(r###""hello \u00e9""###)),
    (
        r###"'YT8-Yg==' | b64decode(urlsafe=true)"###,
        Some(r###""a?>b""###),
    ),
    (
        r###"name | to_uuid"###,
        Some(r###""26a1ed94-d3e4-575d-8179-58c99fde7a6f""###),
    ),
    (
        r###"name | to_uuid(namespace='6ba7b810-9dad-11d1-80b4-00c04fd430c8')"###,
        Some(r###""df43272b-aed7-5a97-980d-f9fdb90508a0""###),
    ),
    (r###"path | basename"###, Some(r###""app.tar.gz""###)),
    (r###"path | dirname"###, Some(r###""/var/lib/../log""###)),
    (
        r###"path | splitext"###,
        Some(r###"["/var/lib/../log/app.tar", ".gz"]"###),
    ),
    (r###"'/a/b/' | dirname"###, Some(r###""/a/b""###)),
    (r###"'/a/b/' | basename"###, Some(r###""""###)),
    (
        r###"'.bashrc' | splitext"###,
        Some(r###"[".bashrc", ""]"###),
    ),
    (r###"'a..b' | splitext"###, Some(r###"["a.", ".b"]"###)),
    (r###"'///a//b' | dirname"###, Some(r###""///a""###)),
    (
        r###"path | normpath"###,
        Some(r###""/var/log/app.tar.gz""###),
    ),
    (
        r###"'a/../../b/./c//' | normpath"###,
        Some(r###""../b/c""###),
    ),
    (r###"'//a/b' | normpath"###, Some(r###""//a/b""###)),
    (
        r###"['/etc', 'ssh', 'sshd_config'] | path_join"###,
        Some(r###""/etc/ssh/sshd_config""###),
    ),
    (r###"['a', '/b', 'c'] | path_join"###, Some(r###""/b/c""###)),
    (
        r###"['/a/b/c', '/a/b/d', '/a/x'] | commonpath"###,
        Some(r###""/a""###),
    ),
    (r###"name | quote"###, Some(r###""web-01""###)),
    (
        r###"uni | quote"###,
        Some(r###""'caf\u00e9 \"q\" \\ \n'""###),
    ),
    (r###""it's" | quote"###, Some(r###""'it'\"'\"'s'""###)),
    (r###"'' | quote"###, Some(r###""''""###)),
    (r###"none | quote"###, Some(r###""''""###)),
    (
        r###"'a.b*c[d]' | regex_escape"###,
        Some(r###""a\\.b\\*c\\[d\\]""###),
    ),
    (
        r###"'^a.b*c$' | regex_escape(re_type='posix_basic')"###,
        Some(r###""\\^a\\.b\\*c\\$""###),
    ),
    (
        r###"'a b-c_d' | regex_escape"###,
        Some(r###""a\\ b\\-c_d""###),
    ),
    (r###"name | mandatory"###, Some(r###""web-01""###)),
    (
        r###"tags.env | mandatory('need env')"###,
        Some(r###""prod""###),
    ),
    (r###"name | type_debug"###, Some(r###""str""###)),
    (r###"cpu | type_debug"###, Some(r###""int""###)),
    (r###"size | type_debug"###, Some(r###""float""###)),
    (r###"tags | type_debug"###, Some(r###""dict""###)),
    (r###"ids | type_debug"###, Some(r###""list""###)),
    (r###"none | type_debug"###, Some(r###""NoneType""###)),
    (r###"true | type_debug"###, Some(r###""bool""###)),
    (r###"'env' | extract(tags)"###, Some(r###""prod""###)),
    (r###"0 | extract(disks, 'id')"###, Some(r###""d1""###)),
    (
        r###"['env', 'role'] | map('extract', tags) | list"###,
        Some(r###"["prod", "web"]"###),
    ),
    (
        r###"disks | subelements('tags')"###,
        Some(
            r###"[[{"id": "d1", "tags": ["a", "b"], "size": 40}, "a"], [{"id": "d1", "tags": ["a", "b"], "size": 40}, "b"], [{"id": "d2", "tags": ["c"], "size": 20}, "c"]]"###,
        ),
    ),
    (
        r###"{'x': {'id': 'x', 'l': [1, 2]}} | subelements('l')"###,
        Some(r###"[[{"id": "x", "l": [1, 2]}, 1], [{"id": "x", "l": [1, 2]}, 2]]"###),
    ),
    (
        r###"disks | subelements('nope', skip_missing=true)"###,
        Some(r###"[]"###),
    ),
    (
        r###"ids | zip(nums)"###,
        Some(r###"[["i-b", 3], ["i-a", 1], ["i-c", 2]]"###),
    ),
    (
        r###"ids | zip(nums, 'ab') | list"###,
        Some(r###"[["i-b", 3, "a"], ["i-a", 1, "b"]]"###),
    ),
    (
        r###"ids | zip_longest(nums)"###,
        Some(r###"[["i-b", 3], ["i-a", 1], ["i-c", 2], ["i-a", null]]"###),
    ),
    (
        r###"ids | zip_longest(nums, fillvalue='-')"###,
        Some(r###"[["i-b", 3], ["i-a", 1], ["i-c", 2], ["i-a", "-"]]"###),
    ),
    (
        r###"ids | union(['i-d', 'i-b']) | sort"###,
        Some(r###"["i-a", "i-b", "i-c", "i-d"]"###),
    ),
    (
        r###"ids | intersect(['i-a', 'i-z']) | sort"###,
        Some(r###"["i-a"]"###),
    ),
    (
        r###"ids | difference(['i-a']) | sort"###,
        Some(r###"["i-b", "i-c"]"###),
    ),
    (
        r###"ids | symmetric_difference(['i-a', 'i-z']) | sort"###,
        Some(r###"["i-b", "i-c", "i-z"]"###),
    ),
    (r###"nums | union([5, 1])"###, Some(r###"[1, 2, 3, 5]"###)),
    (r###"nums | intersect([2, 3, 9])"###, Some(r###"[2, 3]"###)),
    (r###"nums | difference([2])"###, Some(r###"[1, 3]"###)),
    (
        r###"nums | symmetric_difference([2, 7])"###,
        Some(r###"[1, 3, 7]"###),
    ),
    (
        r###"[1, 2] | product(['a', 'b'])"###,
        Some(r###"[[1, "a"], [1, "b"], [2, "a"], [2, "b"]]"###),
    ),
    (
        r###"[1, 2] | product(repeat=2)"###,
        Some(r###"[[1, 1], [1, 2], [2, 1], [2, 2]]"###),
    ),
    (
        r###"nums | permutations(2)"###,
        Some(r###"[[3, 1], [3, 2], [1, 3], [1, 2], [2, 3], [2, 1]]"###),
    ),
    (
        r###"nums | permutations"###,
        Some(r###"[[3, 1, 2], [3, 2, 1], [1, 3, 2], [1, 2, 3], [2, 3, 1], [2, 1, 3]]"###),
    ),
    (
        r###"nums | combinations(2)"###,
        Some(r###"[[3, 1], [3, 2], [1, 2]]"###),
    ),
    (
        r###"'abc' | combinations(2)"###,
        Some(r###"[["a", "b"], ["a", "c"], ["b", "c"]]"###),
    ),
    (r###"mem | log"###, Some(r###"9.010913347279288"###)),
    (r###"mem | log(2)"###, Some(r###"13.0"###)),
    (r###"mem | log(10)"###, Some(r###"3.9133899436317554"###)),
    (r###"cpu | pow(3)"###, Some(r###"64.0"###)),
    (r###"2 | pow(0.5)"###, Some(r###"1.4142135623730951"###)),
    (r###"mem | root"###, Some(r###"90.50966799187809"###)),
    (r###"27 | root(3)"###, Some(r###"3.0"###)),
    (r###"mem | human_readable"###, Some(r###""8.00 KB""###)),
    (
        r###"(mem * 1024 * 1024) | human_readable"###,
        Some(r###""8.00 GB""###),
    ),
    (r###"1 | human_readable"###, Some(r###""1.00 Bytes""###)),
    (
        r###"mem | human_readable(isbits=true)"###,
        Some(r###""8.00 Kb""###),
    ),
    (
        r###"mem | human_readable(unit='M')"###,
        Some(r###""0.01 MB""###),
    ),
    (r###"'10M' | human_to_bytes"###, Some(r###"10485760"###)),
    (
        r###"'1.5 GB' | human_to_bytes"###,
        Some(r###"1610612736"###),
    ),
    (r###"'2K' | human_to_bytes"###, Some(r###"2048"###)),
    (r###"'100' | human_to_bytes"###, Some(r###"100"###)),
    (
        r###"'1Mb' | human_to_bytes(isbits=true)"###,
        Some(r###"1048576"###),
    ),
    (
        r###"'10' | human_to_bytes(default_unit='K')"###,
        Some(r###"10240"###),
    ),
    (
        r###"disks | rekey_on_member('id')"###,
        Some(
            r###"{"d1": {"id": "d1", "tags": ["a", "b"], "size": 40}, "d2": {"id": "d2", "tags": ["c"], "size": 20}}"###,
        ),
    ),
    (
        r###"url | urlsplit"###,
        Some(
            r###"{"fragment": "frag", "hostname": "example.com", "netloc": "User:pw@Example.com:8443", "password": "pw", "path": "/a/b.txt", "port": 8443, "query": "x=1", "scheme": "https", "username": "User"}"###,
        ),
    ),
    (
        r###"url | urlsplit('hostname')"###,
        Some(r###""example.com""###),
    ),
    (r###"url | urlsplit('port')"###, Some(r###"8443"###)),
    (
        r###"'http://[::1]:80/x' | urlsplit"###,
        Some(
            r###"{"fragment": "", "hostname": "::1", "netloc": "[::1]:80", "password": null, "path": "/x", "port": 80, "query": "", "scheme": "http", "username": null}"###,
        ),
    ),
    (
        r###"'mailto:a@b.c' | urlsplit"###,
        Some(
            r###"{"fragment": "", "hostname": null, "netloc": "", "password": null, "path": "a@b.c", "port": null, "query": "", "scheme": "mailto", "username": null}"###,
        ),
    ),
    (
        r###"'a+b%20c%C3%A9' | urldecode"###,
        Some(r###""a b c\u00e9""###),
    ),
    (
        r###"tags | dict2items"###,
        Some(
            r###"[{"key": "env", "value": "prod"}, {"key": "role", "value": "web"}, {"key": "zone", "value": "Z"}]"###,
        ),
    ),
    (
        r###"tags | dict2items | items2dict"###,
        Some(r###"{"env": "prod", "role": "web", "zone": "Z"}"###),
    ),
    (r###"nums | min"###, Some(r###"1"###)),
    (r###"nums | max"###, Some(r###"3"###)),
    (r###"ids | min"###, Some(r###""i-a""###)),
    (r###"ids | max"###, Some(r###""i-c""###)),
    (
        r###"disks | max(attribute='size')"###,
        Some(r###"{"id": "d1", "tags": ["a", "b"], "size": 40}"###),
    ),
    (r###"-3 | abs"###, Some(r###"3"###)),
    (r###"size | round"###, Some(r###"2.0"###)),
    (r###"2.567 | round(2)"###, Some(r###"2.57"###)),
    (r###"2.5 | round"###, Some(r###"2.0"###)),
    (r###"2.567 | round(1, 'floor')"###, Some(r###"2.5"###)),
    (r###"2.513 | round(1, 'ceil')"###, Some(r###"2.6"###)),
    (r###"nums | sum"###, Some(r###"6"###)),
    (r###"disks | sum(attribute='size')"###, Some(r###"60"###)),
    (
        r###"'hELLO wORLD' | capitalize"###,
        Some(r###""Hello world""###),
    ),
    (r###"nums | reverse | list"###, Some(r###"[2, 1, 3]"###)),
    (r###"name | reverse"###, Some(r###""10-bew""###)),
    (
        r###"tags | dictsort"###,
        Some(r###"[["env", "prod"], ["role", "web"], ["zone", "Z"]]"###),
    ),
    (
        r###"tags | dictsort(reverse=true)"###,
        Some(r###"[["zone", "Z"], ["role", "web"], ["env", "prod"]]"###),
    ),
    (
        r###"tags | dictsort(by='value')"###,
        Some(r###"[["env", "prod"], ["role", "web"], ["zone", "Z"]]"###),
    ),
    (
        r###"tags | items | list"###,
        Some(r###"[["env", "prod"], ["role", "web"], ["zone", "Z"]]"###),
    ),
    (
        r###"{'b': 1, 'A': 2, 'a': 3} | to_json(sort_keys=true)"###,
        Some(r###""{\"A\": 2, \"a\": 3, \"b\": 1}""###),
    ),
    (
        r###"[-1, 100, 7, 1] | union([64, 3]) | sort"###,
        Some(r###"[-1, 1, 3, 7, 64, 100]"###),
    ),
    (r###"nums | root(3)"###, None),
    (r###"2 | root"###, Some(r###"1.4142135623730951"###)),
    (
        r###"nums | batch(2) | list"###,
        Some(r###"[[3, 1], [2]]"###),
    ),
    (
        r###"nums | batch(2, 0) | list"###,
        Some(r###"[[3, 1], [2, 0]]"###),
    ),
    (
        r###"nums | slice(2) | list"###,
        Some(r###"[[3, 1], [2]]"###),
    ),
    (r###"ids | unique"###, Some(r###"["i-b", "i-a", "i-c"]"###)),
    (r###"cpu is truthy"###, Some(r###"true"###)),
    (r###"zero is truthy"###, Some(r###"false"###)),
    (
        r###"flag is truthy(convert_bool=true)"###,
        Some(r###"true"###),
    ),
    (
        r###"'no' is truthy(convert_bool=true)"###,
        Some(r###"false"###),
    ),
    (
        r###"'off' is falsy(convert_bool=true)"###,
        Some(r###"true"###),
    ),
    (r###"empty is falsy"###, Some(r###"true"###)),
    (r###"['i-a'] is subset(ids)"###, Some(r###"true"###)),
    (
        r###"ids is superset(['i-a', 'i-b'])"###,
        Some(r###"true"###),
    ),
    (r###"ids is issubset(['i-a'])"###, Some(r###"false"###)),
    (r###"ids is contains('i-a')"###, Some(r###"true"###)),
    (r###"ver is version('2.19', '>')"###, Some(r###"true"###)),
    (r###"ver is version('2.19.1', 'eq')"###, Some(r###"true"###)),
    (r###"ver is version('2.9', 'lt')"###, Some(r###"false"###)),
    (
        r###"'1.2a1' is version('1.2', '<', strict=true)"###,
        Some(r###"true"###),
    ),
    (
        r###"ver is version('2.20.0', '<', version_type='strict')"###,
        Some(r###"true"###),
    ),
    (
        r###"'1.0.0' is version('1.0', '==')"###,
        Some(r###"false"###),
    ),
    (
        r###"'1.0rc1' is version('1.0', '<')"###,
        Some(r###"false"###),
    ),
    (
        r###"ver is version_compare('3', '<=')"###,
        Some(r###"true"###),
    ),
    (r###"nums is any"###, Some(r###"true"###)),
    (r###"[0, 1] is all"###, Some(r###"false"###)),
    (r###"[] is all"###, Some(r###"true"###)),
    (r###"size is nan"###, Some(r###"false"###)),
    (
        r###"(1e300 * 1e300 - 1e300 * 1e300) is nan"###,
        Some(r###"true"###),
    ),
    (r###"url is uri"###, Some(r###"true"###)),
    (r###"url is url"###, Some(r###"true"###)),
    (r###"'urn:isbn:123' is urn"###, Some(r###"true"###)),
    (r###"'/x/y' is url"###, Some(r###"false"###)),
    (r###"'file:///x' is url"###, Some(r###"true"###)),
    (r###"url is uri(['http'])"###, Some(r###"false"###)),
    (r###"path is abs"###, Some(r###"true"###)),
    (r###"'rel/x' is is_abs"###, Some(r###"false"###)),
    (r###"none is none"###, Some(r###"true"###)),
    (r###"true is boolean"###, Some(r###"true"###)),
    (r###"cpu is odd"###, Some(r###"false"###)),
    (r###"cpu is even"###, Some(r###"true"###)),
    (r###"cpu is divisibleby(2)"###, Some(r###"true"###)),
    (r###"cpu is integer"###, Some(r###"true"###)),
    (r###"size is float"###, Some(r###"true"###)),
    (r###"ids is iterable"###, Some(r###"true"###)),
    (r###"'abc' is lower"###, Some(r###"true"###)),
    (r###"'ABC' is upper"###, Some(r###"true"###)),
    (r###"cpu is eq(4)"###, Some(r###"true"###)),
    (r###"cpu is ne(4)"###, Some(r###"false"###)),
    (r###"cpu is lt(5)"###, Some(r###"true"###)),
    (r###"cpu is gt(5)"###, Some(r###"false"###)),
    (r###"cpu is ge(4)"###, Some(r###"true"###)),
    (r###"cpu is le(3)"###, Some(r###"false"###)),
    (r###"true is true"###, Some(r###"true"###)),
    (r###"false is false"###, Some(r###"true"###)),
    (
        r###"ids | select('truthy') | list"###,
        Some(r###"["i-b", "i-a", "i-c", "i-a"]"###),
    ),
    (
        r###"disks | selectattr('size', 'gt', 30) | map(attribute='id') | list"###,
        Some(r###"["d1"]"###),
    ),
    (
        r###"ids | map('regex_escape') | list"###,
        Some(r###"["i\\-b", "i\\-a", "i\\-c", "i\\-a"]"###),
    ),
    (
        r###"nums | map('pow', 2) | list"###,
        Some(r###"[9.0, 1.0, 4.0]"###),
    ),
    (r###"cpu | round"###, Some(r###"4"###)),
    (r###"['b', 'A', 'a'] | min"###, Some(r###""A""###)),
    (r###"['b', 'A', 'a'] | max"###, Some(r###""b""###)),
    (
        r###"['b', 'A', 'a'] | min(case_sensitive=true)"###,
        Some(r###""A""###),
    ),
    (r###"['b', 'A', 'a'] | unique"###, Some(r###"["b", "A"]"###)),
    (r###"range(3) | list"###, Some(r###"[0, 1, 2]"###)),
    (r###"dict(a=1, b=[2])"###, Some(r###"{"a": 1, "b": [2]}"###)),
    (r###"nums | combinations"###, None),
    (r###"name | hash('whirlpool')"###, None),
    (r###"'%%%' | b64decode"###, Some(r###""""###)),
    (r###"missing | mandatory"###, None),
    (r###"missing | mandatory('give it')"###, None),
    (r###"'1.a' is version('1.1', '<')"###, None),
    (r###"'x' is version('1.0', 'bogus')"###, None),
    (r###"size | log(1)"###, None),
    (r###"-1 | root"###, None),
    (r###"'a' | log"###, None),
    (
        r###"[[1], [2]] | union([[1]])"###,
        Some(r###"[[1], [2]]"###),
    ),
    (
        r###"ids | zip"###,
        Some(r###"[["i-b"], ["i-a"], ["i-c"], ["i-a"]]"###),
    ),
    (
        r###"ids | product"###,
        Some(r###"[["i-b"], ["i-a"], ["i-c"], ["i-a"]]"###),
    ),
    (
        r###"jtext | from_json | to_nice_json"###,
        Some(
            r###""{\n    \"a\": [\n        1,\n        2.5,\n        null\n    ],\n    \"b\": true,\n    \"c\": \"\\u00e9\"\n}""###,
        ),
    ),
    (
        r###"['a', ['b', ['c', none]]] | flatten(levels=1)"###,
        Some(r###"["a", "b", ["c", null]]"###),
    ),
    (
        r###"{'a': 1, 'b': 2} | flatten"###,
        Some(r###"["a", "b"]"###),
    ),
    (r###"'x' | flatten"###, Some(r###"["x"]"###)),
    (
        r###"'a' | extract({'a': {'b': 1}}, ['b'])"###,
        Some(r###"1"###),
    ),
    (
        r###"'a' | extract({'a': {'b': 1}}, 'b')"###,
        Some(r###"1"###),
    ),
    (r###"'q' | extract({'a': 1})"###, None),
    (r###"'1.5 KB' | human_to_bytes"###, Some(r###"1536"###)),
    (
        r###"'1 megabyte' | human_to_bytes"###,
        Some(r###"1048576"###),
    ),
    (r###"'1 kB' | human_to_bytes"###, None),
    (r###"'1Kb' | human_to_bytes"###, None),
    (r###"'http://x/a' | urlsplit('bogus')"###, None),
    (r###"'http://h:99999/' | urlsplit"###, None),
    (
        r###"'2.0.0' is version('2.0.0-rc1', '>', version_type='semver')"###,
        Some(r###"true"###),
    ),
    (
        r###"mem | human_readable(unit='G')"###,
        Some(r###""0.00 GB""###),
    ),
    (r###"0 | human_readable"###, Some(r###""0.00 Bytes""###)),
    (r###"cpu is nan"###, Some(r###"false"###)),
    (r###"'x' is nan"###, Some(r###"false"###)),
    (r###"{'a': 1} | to_json"###, Some(r###""{\"a\": 1}""###)),
    (
        r###"{1.5: 1, true: 2, none: 3} | to_json"###,
        Some(r###""{\"1.5\": 1, \"true\": 2, \"null\": 3}""###),
    ),
    (r###"{(1, 2): 3} | to_json"###, None),
    (r###"{(1, 2): 3} | to_nice_json"###, None),
    (
        r###"{1: 'a', none: 2} | to_json"###,
        Some(r###""{\"1\": \"a\", \"null\": 2}""###),
    ),
    (
        r###"[1.0, 1e20, 1.5e-7, -0.0] | to_json"###,
        Some(r###""[1.0, 1e+20, 1.5e-07, -0.0]""###),
    ),
    (
        r###""é" | to_nice_json(ensure_ascii=false)"###,
        Some(r###""\"\u00e9\"""###),
    ),
    (
        r###"'1.0.0-alpha' is version('1.0.0-alpha.1', '<', version_type='semver')"###,
        Some(r###"true"###),
    ),
    (
        r###"'1.0.0-alpha.1' is version('1.0.0-alpha.beta', '<', version_type='semver')"###,
        Some(r###"true"###),
    ),
    (
        r###"'1.0.0-beta.11' is version('1.0.0-beta.2', '>', version_type='semver')"###,
        Some(r###"true"###),
    ),
    (
        r###"'1.0.0+b1' is version('1.0.0+b2', '==', version_type='semver')"###,
        Some(r###"true"###),
    ),
    (
        r###"'1.0' is version('1.0.0', '==', version_type='semver')"###,
        None,
    ),
    (r###"'abc1' is lower"###, Some(r###"true"###)),
    (r###"'' is lower"###, Some(r###"false"###)),
    (r###"'ABC1' is upper"###, Some(r###"true"###)),
    (r###"'Abc' is upper"###, Some(r###"false"###)),
    (r###"true is integer"###, Some(r###"false"###)),
    (r###"true is number"###, Some(r###"true"###)),
    (r###"1.5 is float"###, Some(r###"true"###)),
    (r###"cpu is float"###, Some(r###"false"###)),
    (r###"none is iterable"###, Some(r###"false"###)),
    (r###"'abc' is iterable"###, Some(r###"true"###)),
    (r###"tags is iterable"###, Some(r###"true"###)),
    (r###"3.0 is odd"###, Some(r###"true"###)),
    (r###"4 is divisibleby(3)"###, Some(r###"false"###)),
    (r###"'a' is sameas('a')"###, Some(r###"true"###)),
    (r###"[1] is sameas([1])"###, Some(r###"false"###)),
    (r###"cpu is sameas(4)"###, Some(r###"true"###)),
    (r###"none is sameas(none)"###, Some(r###"true"###)),
    (r###"true is boolean"###, Some(r###"true"###)),
    (r###"1 is boolean"###, Some(r###"false"###)),
    (r###"1 is true"###, Some(r###"false"###)),
    (r###"true is true"###, Some(r###"true"###)),
    (r###"1 is eq(true)"###, Some(r###"true"###)),
    (r###"'a' is lt('b')"###, Some(r###"true"###)),
    (r###"'a' is ne(1)"###, Some(r###"true"###)),
    (r###"tags is mapping"###, Some(r###"true"###)),
    (r###"nums | sum(start=10)"###, Some(r###"16"###)),
    (r###"[1.5, 2] | sum"###, Some(r###"3.5"###)),
    (r###"[] | min"###, None),
    (
        r###"disks | min(attribute='size')"###,
        Some(r###"{"id": "d2", "tags": ["c"], "size": 20}"###),
    ),
    (
        r###"tags | dictsort(case_sensitive=true)"###,
        Some(r###"[["env", "prod"], ["role", "web"], ["zone", "Z"]]"###),
    ),
    (
        r###"{'b': 1, 'B': 2, 'a': 3} | dictsort"###,
        Some(r###"[["a", 3], ["b", 1], ["B", 2]]"###),
    ),
    (
        r###"{'b': 1, 'B': 2, 'a': 3} | dictsort(true)"###,
        Some(r###"[["B", 2], ["a", 3], ["b", 1]]"###),
    ),
    (
        r###"nums | batch(2, 'x') | list"###,
        Some(r###"[[3, 1], [2, "x"]]"###),
    ),
    (
        r###"[1, 2, 3, 4, 5] | slice(3) | list"###,
        Some(r###"[[1, 2], [3, 4], [5]]"###),
    ),
    (
        r###"[1, 2, 3, 4, 5] | slice(3, 0) | list"###,
        Some(r###"[[1, 2], [3, 4], [5, 0]]"###),
    ),
    (r###"2.5 | round(0, 'common')"###, Some(r###"2.0"###)),
    (r###"3.5 | round"###, Some(r###"4.0"###)),
    (r###"-2.5 | round"###, Some(r###"-2.0"###)),
    (r###"1.23456 | round(3, 'floor')"###, Some(r###"1.234"###)),
    (r###"'é' | capitalize"###, Some(r###""\u00c9""###)),
    (
        r###"'ÉCOLE abc' | capitalize"###,
        Some(r###""\u00c9cole abc""###),
    ),
    (
        r###"tags | reverse | list"###,
        Some(r###"["zone", "role", "env"]"###),
    ),
    (r###"{'a': 1} | items | list"###, Some(r###"[["a", 1]]"###)),
    (r###"-3.5 | abs"###, Some(r###"3.5"###)),
    (r###"true | abs"###, Some(r###"1"###)),
    (r###"'x' | abs"###, None),
    (r###"1 | reverse"###, None),
    (r###"nums | sort | reverse | first"###, Some(r###"3"###)),
    (r###"'YR==' | b64decode"###, Some(r###""a""###)),
    (r###"'YQ' | b64decode"###, None),
    (r###"'YQ=' | b64decode"###, None),
    (r###"'YQ===' | b64decode"###, Some(r###""a""###)),
    (r###"'Y Q = =' | b64decode"###, Some(r###""a""###)),
    (r###"'YQ==YQ==' | b64decode"###, Some(r###""a""###)),
    (r###"'YWJj' | b64decode"###, Some(r###""abc""###)),
    (r###"'YWJjZA=x=' | b64decode"###, Some(r###""abcd\f""###)),
    (r###"'YWJjZ' | b64decode"###, None),
    (r###"'_-8' | b64decode(urlsafe=true)"###, None),
    (
        r###"'YWJj+/8=' | b64encode"###,
        Some(r###""WVdKaisvOD0=""###),
    ),
    (
        r###"[cpu, mem, 2] | select('==', 4) | list"###,
        Some(r###"[4]"###),
    ),
    (
        r###"nums | select('!=', 2) | list"###,
        Some(r###"[3, 1]"###),
    ),
    (r###"nums | select('<', 3) | list"###, Some(r###"[1, 2]"###)),
    (
        r###"nums | select('<=', 2) | list"###,
        Some(r###"[1, 2]"###),
    ),
    (r###"nums | select('>', 1) | list"###, Some(r###"[3, 2]"###)),
    (r###"nums | reject('>=', 2) | list"###, Some(r###"[1]"###)),
    (
        r###""hello wORLD-foo(bar) [x]y <z>" | title"###,
        Some(r###""Hello World-Foo(Bar) [X]y <Z>""###),
    ),
    (
        r###""o'neil mc-donald" | title"###,
        Some(r###""O'neil Mc-Donald""###),
    ),
    (r###"name | title"###, Some(r###""Web-01""###)),
    (r###""foo bar, baz_qux 12" | wordcount"###, Some(r###"4"###)),
    (r###""ab" | center(7)"###, Some(r###""   ab  ""###)),
    (r###""ab" | center(8)"###, Some(r###""   ab   ""###)),
    (r###""abc" | center(6)"###, Some(r###"" abc  ""###)),
    (r###""abc" | center(2)"###, Some(r###""abc""###)),
    (r###"cpu | center(5)"###, Some(r###""  4  ""###)),
    (
        r###""foo bar baz qux" | truncate(9)"###,
        Some(r###""foo...""###),
    ),
    (
        r###""foo bar baz qux" | truncate(9, true)"###,
        Some(r###""foo ba...""###),
    ),
    (
        r###""foo bar baz qux" | truncate(11)"###,
        Some(r###""foo bar baz qux""###),
    ),
    (
        r###""foo bar baz qux" | truncate(11, false, '...', 0)"###,
        Some(r###""foo bar...""###),
    ),
    (
        r###""foobarbazqux" | truncate(5, false, '..', 0)"###,
        Some(r###""foo..""###),
    ),
    (
        r###""a\nb\n\nc" | indent"###,
        Some(r###""a\n    b\n\n    c""###),
    ),
    (
        r###""a\nb\n\nc" | indent(2, true)"###,
        Some(r###""  a\n  b\n\n  c""###),
    ),
    (
        r###""a\nb\n\nc" | indent('> ', blank=true)"###,
        Some(r###""a\n> b\n> \n> c""###),
    ),
    (r###""a\r\nb" | indent(1)"###, Some(r###""a\n b""###)),
    (
        r###""a b/c?d=é&" | urlencode"###,
        Some(r###""a%20b/c%3Fd%3D%C3%A9%26""###),
    ),
    (
        r###"{'a b': 'c/d', 'e': 1} | urlencode"###,
        Some(r###""a+b=c%2Fd&e=1""###),
    ),
    (
        r###"[['k', 'v w'], ['x', none]] | urlencode"###,
        Some(r###""k=v+w&x=None""###),
    ),
    (r###"cpu | urlencode"###, Some(r###""4""###)),
    (r###"1 | filesizeformat"###, Some(r###""1 Byte""###)),
    (r###"999 | filesizeformat"###, Some(r###""999 Bytes""###)),
    (r###"1000 | filesizeformat"###, Some(r###""1.0 kB""###)),
    (r###"mem | filesizeformat"###, Some(r###""8.2 kB""###)),
    (
        r###"mem | filesizeformat(true)"###,
        Some(r###""8.0 KiB""###),
    ),
    (
        r###"'12345678' | filesizeformat"###,
        Some(r###""12.3 MB""###),
    ),
    (
        r###"1e30 | filesizeformat"###,
        Some(r###""1000000.0 YB""###),
    ),
    (
        r###"{'b': '<a&b>', 'a': "it's"} | tojson"###,
        Some(r###""{\"a\": \"it\\u0027s\", \"b\": \"\\u003ca\\u0026b\\u003e\"}""###),
    ),
    (
        r###"[1, 'é', none] | tojson"###,
        Some(r###""[1, \"\\u00e9\", null]""###),
    ),
    (
        r###""<a href='x'>&\"</a>" | escape"###,
        Some(r###""&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;""###),
    ),
    (r###""<a>" | e"###, Some(r###""&lt;a&gt;""###)),
    (r###""<a>" | forceescape"###, Some(r###""&lt;a&gt;""###)),
    (r###"cpu | e"###, Some(r###""4""###)),
    (r###"none | e"###, Some(r###""None""###)),
    (r###""<a>" | safe"###, Some(r###""<a>""###)),
    (r###"cpu | safe"###, Some(r###""4""###)),
    (
        r###"disks | groupby('size') | list"###,
        Some(
            r###"[[20, [{"id": "d2", "tags": ["c"], "size": 20}]], [40, [{"id": "d1", "tags": ["a", "b"], "size": 40}]]]"###,
        ),
    ),
    (
        r###"ids | map('upper') | groupby('0') | list"###,
        Some(r###"[["I", ["I-B", "I-A", "I-C", "I-A"]]]"###),
    ),
    (
        r###"[{'n': 'b'}, {'n': 'A'}, {'n': 'a'}] | groupby('n')"###,
        Some(r###"[["A", [{"n": "A"}, {"n": "a"}]], ["b", [{"n": "b"}]]]"###),
    ),
    (
        r###"[{'n': 'b'}, {'n': 'A'}, {'n': 'a'}] | groupby('n', case_sensitive=true)"###,
        Some(r###"[["A", [{"n": "A"}]], ["a", [{"n": "a"}]], ["b", [{"n": "b"}]]]"###),
    ),
    (
        r###"[{'n': 'b'}, {'x': 1}] | groupby('n', default='z')"###,
        None,
    ),
    (
        r###""%s-%s" | format(name, cpu)"###,
        Some(r###""web-01-4""###),
    ),
    (
        r###""%05d|%-5d|%+d|% d" | format(cpu, cpu, cpu, cpu)"###,
        Some(r###""00004|4    |+4| 4""###),
    ),
    (
        r###""%x %X %o %#x %#o %#010x" | format(255, 255, 8, 255, 8, 255)"###,
        Some(r###""ff FF 10 0xff 0o10 0x000000ff""###),
    ),
    (
        r###""%.2f %f %e %E %g %G" | format(size, 1.0, 12345.678, 0.000123, 0.0001234, 1e20)"###,
        Some(r###""1.50 1.000000 1.234568e+04 1.230000E-04 0.0001234 1E+20""###),
    ),
    (
        r###""%g %g %g %g %g" | format(100000, 1000000, 0.0001, 1.5, 0)"###,
        Some(r###""100000 1e+06 0.0001 1.5 0""###),
    ),
    (
        r###""%.3g %.10g %#g" | format(3.14159, 2.5, 2.0)"###,
        Some(r###""3.14 2.5 2.00000""###),
    ),
    (
        r###""%10s|%-10s|%.2s" | format('ab', 'cd', 'efg')"###,
        Some(r###""        ab|cd        |ef""###),
    ),
    (
        r###""%(a)s and %(b)03d" | format(a='x', b=7)"###,
        Some(r###""x and 007""###),
    ),
    (
        r###""%r %r" | format('q', tags)"###,
        Some(r###""'q' {'env': 'prod', 'role': 'web', 'zone': 'Z'}""###),
    ),
    (r###""%d%%" | format(size)"###, Some(r###""1%""###)),
    (r###""%c%c" | format(65, 'z')"###, Some(r###""Az""###)),
    (
        r###""%s" | format(ids)"###,
        Some(r###""['i-b', 'i-a', 'i-c', 'i-a']""###),
    ),
    (r###""%s %s" | format(cpu)"###, None),
    (r###""%s" | format(cpu, mem)"###, None),
    (r###""%d" | format('x')"###, None),
    (r###""%x" | format(1.5)"###, None),
    (
        r###""%*d|%.*f" | format(5, 42, 2, 3.14159)"###,
        Some(r###""   42|3.14""###),
    ),
    (r###""%s" | format(none)"###, Some(r###""None""###)),
    (
        r###""%s %s" | format(true, size)"###,
        Some(r###""True 1.5""###),
    ),
    (
        r###""%08.3f|%-8.2f|%+.1e" | format(-3.14159, 2.5, 12345)"###,
        Some(r###""-003.142|2.50    |+1.2e+04""###),
    ),
    (r###""%i" | format(-7.9)"###, Some(r###""-7""###)),
    (r###""%5.1f%%" | format(99.55)"###, Some(r###"" 99.5%""###)),
    (r###"'/a' | dirname"###, Some(r###""/""###)),
    (r###"'//a' | dirname"###, Some(r###""//""###)),
    (r###"'a' | dirname"###, Some(r###""""###)),
    (r###"'a/b//' | dirname"###, Some(r###""a/b""###)),
    (r###"'///' | dirname"###, Some(r###""///""###)),
    (r###"'x/.a' | splitext"###, Some(r###"["x/.a", ""]"###)),
    (r###"'a.b' | splitext"###, Some(r###"["a", ".b"]"###)),
    (r###"'..a' | splitext"###, Some(r###"["..a", ""]"###)),
    (r###"'a/b' | path_join"###, Some(r###""a/b""###)),
    (r###"{'a': 1} | path_join"###, None),
    (r###"5 | path_join"###, None),
    (r###"['a', 'b'] | path_join"###, Some(r###""a/b""###)),
    (r###"['a/', 'b'] | path_join"###, Some(r###""a/b""###)),
    (r###"['a', '', 'b'] | path_join"###, Some(r###""a/b""###)),
    (r###"'1a://h/p' | urlsplit('netloc')"###, Some(r###""""###)),
    (r###"'a_b://h/p' | urlsplit('scheme')"###, Some(r###""""###)),
    (
        r###"'A+b.c-d://h/p' | urlsplit('scheme')"###,
        Some(r###""a+b.c-d""###),
    ),
    (
        r###"'%ld|%hd|%Lf' | format(5, 6, 1.5)"###,
        Some(r###""5|6|1.500000""###),
    ),
    (
        r###"['0.0', '1.0', ' no ', ' yes ', 'none', '', 'NO', 2, 0.0, 1.0, 2.5, true, false, none, 'x'] | select('truthy', convert_bool=true) | list"###,
        Some(r###"["0.0", "1.0", " yes ", "none", 2, 1.0, 2.5, true, "x"]"###),
    ),
    (
        r###"['0.0', '1.0', ' no ', ' yes ', 'none', '', 'NO', 2, 0.0, 1.0, 2.5, true, false, none, 'x'] | select('falsy', convert_bool=true) | list"###,
        Some(r###"[" no ", "", "NO", 0.0, false, null]"###),
    ),
    (
        r###"['0.0', 'none', ' no '] | select('truthy') | list"###,
        Some(r###"["0.0", "none", " no "]"###),
    ),
    (r###"'1a://h/p' is uri(['1a'])"###, Some(r###"false"###)),
    (r###"'a_b://h/p' is uri(['a_b'])"###, Some(r###"false"###)),
    (r###"'HTTP://h/p' is uri(['http'])"###, Some(r###"true"###)),
    (r###"'1-2' is version('1_2', '<')"###, Some(r###"true"###)),
    (r###"'1-' is version('1', '>')"###, Some(r###"true"###)),
    (r###"'1.a' is version('1a', '==')"###, Some(r###"true"###)),
    (r###"'1A' is version('1B', '<')"###, Some(r###"true"###)),
    (
        r###"'%d|%i' | format(9007199254740993, -9007199254740993)"###,
        Some(r###""9007199254740993|-9007199254740993""###),
    ),
    (
        r###"'%f|%F|%e|%G' | format('inf' | float, '-inf' | float, 'nan' | float, 'inf' | float)"###,
        Some(r###""inf|-INF|nan|INF""###),
    ),
    (r###"'1.1' is version('1.a', '<')"###, None),
    (r###"'1.a' is version('1.1', '>')"###, None),
    (
        r###"'1.0.0-a' is version('1.0.0-1', '>', version_type='semver')"###,
        Some(r###"true"###),
    ),
    (
        r###"'1.0.0-1' is version('1.0.0-a', '<', version_type='semver')"###,
        Some(r###"true"###),
    ),
    (
        r###"'%.2g|%g|%.3G' | format(99.9, 999999.5, 0.00099995)"###,
        Some(r###""1e+02|1e+06|0.001""###),
    ),
    (r###"'%c' | format('ab')"###, None),
    (
        r###"'%c|%c' | format('é', 233)"###,
        Some(r###""\u00e9|\u00e9""###),
    ),
    (
        r###"'1.0.0-alpha.10' is version('1.0.0-alpha.9', '>', version_type='semver')"###,
        Some(r###"true"###),
    ),
    (
        r###"['1.2', '1.3', '1.10'] | select('version', '1.3', 'ne') | list"###,
        Some(r###"["1.2", "1.10"]"###),
    ),
    (
        r###"['1.2', '1.3', '1.10'] | select('version', '1.3', '!=') | list"###,
        Some(r###"["1.2", "1.10"]"###),
    ),
    (
        r###"['1.2', '1.3', '1.10'] | select('version', '1.3', 'gt') | list"###,
        Some(r###"["1.10"]"###),
    ),
    (
        r###"['1.2', '1.3', '1.10'] | select('version', '1.3', '>') | list"###,
        Some(r###"["1.10"]"###),
    ),
    (
        r###"['1.2', '1.3', '1.10'] | select('version', '1.3', '<>') | list"###,
        Some(r###"["1.2", "1.10"]"###),
    ),
    (
        r###"['1.2', '1.3', '1.10'] | select('version', '1.3', 'ge') | list"###,
        Some(r###"["1.3", "1.10"]"###),
    ),
    (
        r###"['1.2', '1.3', '1.10'] | select('version', '1.3', '>=') | list"###,
        Some(r###"["1.3", "1.10"]"###),
    ),
    (
        r###"'abcdefghijkl' | truncate(5, false, '...', -1)"###,
        None,
    ),
    (
        r###"'abcdefghijkl' | truncate(5, true, '...', 0)"###,
        Some(r###""ab...""###),
    ),
    (r###"cpu | mandatory"###, Some(r###"4"###)),
    (r###"nope | mandatory('msg')"###, None),
    (r###"'Pj4+' | b64decode"###, Some(r###"">>>""###)),
    (r###"'Pz4/' | b64decode"###, Some(r###""?>?""###)),
    (r###"'Pj4-' | b64decode"###, None),
    (r###"'Pz4_' | b64decode"###, None),
    (
        r###"'Pj4-' | b64decode(urlsafe=true)"###,
        Some(r###"">>>""###),
    ),
    (
        r###"'Pz4_' | b64decode(urlsafe=true)"###,
        Some(r###""?>?""###),
    ),
    (
        r###"'Pj4+Pz4/' | b64decode(urlsafe=true)"###,
        Some(r###"">>>?>?""###),
    ),
    (r###"'abcdefghijkl' | truncate(3)"###, Some(r###""...""###)),
    (r###"'abcdefghijkl' | truncate(2)"###, None),
    (
        r###"'a\nb\r\nc' | indent(2)"###,
        Some(r###""a\n  b\n  c""###),
    ),
    (
        r###"'a\nb\n' | indent(2, true)"###,
        Some(r###""  a\n  b\n""###),
    ),
    (
        r###"'a\u2028b\x0bc' | indent(1)"###,
        Some(r###""a\n b\n c""###),
    ),
    (r###"1000000 | filesizeformat"###, Some(r###""1.0 MB""###)),
    (
        r###"1048576 | filesizeformat(true)"###,
        Some(r###""1.0 MiB""###),
    ),
    (
        r###"1e30 | filesizeformat(true)"###,
        Some(r###""827180.6 YiB""###),
    ),
    (
        r###"disks | subelements(['tags'])"###,
        Some(
            r###"[[{"id": "d1", "tags": ["a", "b"], "size": 40}, "a"], [{"id": "d1", "tags": ["a", "b"], "size": 40}, "b"], [{"id": "d2", "tags": ["c"], "size": 20}, "c"]]"###,
        ),
    ),
    (
        r###"disks | subelements({'tags': 1}, skip_missing=true)"###,
        None,
    ),
    (r###"disks | subelements('nope')"###, None),
    (
        r###"disks | subelements('nope', true)"###,
        Some(r###"[]"###),
    ),
    (r###"disks | subelements(5)"###, None),
    (
        r###"{'x': {'l': [1, 2]}, 'y': {'l': [3]}} | subelements('l')"###,
        Some(r###"[[{"l": [1, 2]}, 1], [{"l": [1, 2]}, 2], [{"l": [3]}, 3]]"###),
    ),
    (
        r###"disks | rekey_on_member('id', duplicates='keep')"###,
        None,
    ),
    (
        r###"(disks + [{'id': 'd1', 'size': 1}]) | rekey_on_member('id')"###,
        None,
    ),
    (
        r###"(disks + [{'id': 'd1', 'size': 1}]) | rekey_on_member('id', duplicates='overwrite')"###,
        Some(
            r###"{"d1": {"id": "d1", "size": 1}, "d2": {"id": "d2", "tags": ["c"], "size": 20}}"###,
        ),
    ),
    (r###"(ids + ['x']) is sequence"###, Some(r###"true"###)),
    (r###"range(3) is sequence"###, Some(r###"true"###)),
    (r###"(ids | reverse) is sequence"###, Some(r###"true"###)),
    (
        r###"(ids | map('upper')) is sequence"###,
        Some(r###"true"###),
    ),
    (
        r###"(disks + []) | rekey_on_member('id')"###,
        Some(
            r###"{"d1": {"id": "d1", "tags": ["a", "b"], "size": 40}, "d2": {"id": "d2", "tags": ["c"], "size": 20}}"###,
        ),
    ),
    (
        r###"(disks + []) | subelements('tags')"###,
        Some(
            r###"[[{"id": "d1", "tags": ["a", "b"], "size": 40}, "a"], [{"id": "d1", "tags": ["a", "b"], "size": 40}, "b"], [{"id": "d2", "tags": ["c"], "size": 20}, "c"]]"###,
        ),
    ),
    (
        r###"disks | subelements(['ta' ~ 'gs'] + [])"###,
        Some(
            r###"[[{"id": "d1", "tags": ["a", "b"], "size": 40}, "a"], [{"id": "d1", "tags": ["a", "b"], "size": 40}, "b"], [{"id": "d2", "tags": ["c"], "size": 20}, "c"]]"###,
        ),
    ),
    (
        r###"{'a': ids + []} | combine({'a': ['z']}, list_merge='append')"###,
        Some(r###"{"a": ["i-b", "i-a", "i-c", "i-a", "z"]}"###),
    ),
    (
        r###"[ids + [], ids] | sort"###,
        Some(r###"[["i-b", "i-a", "i-c", "i-a"], ["i-b", "i-a", "i-c", "i-a"]]"###),
    ),
    (
        r###"'k' | extract({'k': {'a': 1}}, ['a'] + [])"###,
        Some(r###"1"###),
    ),
    (r###"[ids + []] is subset([1])"###, None),
    (r###"(ids + []) | length"###, Some(r###"4"###)),
    (r###"{'l': [1] + [2]} | subelements('l')"###, None),
    (
        r###"[3, 1, 2] | difference([2, 4])"###,
        Some(r###"[1, 3]"###),
    ),
    (r###"[1, 2] | permutations(-1)"###, None),
    (r###"[1, 2] | permutations(0)"###, Some(r###"[[]]"###)),
    (r###"[1, 2] | combinations(0)"###, Some(r###"[[]]"###)),
    (r###"[1, 2] | product(repeat=-1)"###, None),
    (r###"[1, 2] | product(repeat=0)"###, Some(r###"[[]]"###)),
    (r###"1000 | log(10)"###, Some(r###"3.0"###)),
    (r###"5 | log(1)"###, None),
    (r###"2921 | root(2)"###, Some(r###"54.04627646748664"###)),
    (r###"2921 | root"###, Some(r###"54.04627646748664"###)),
    (
        r###"{'x': {'id': 1}, 'y': {'id': 2}} | rekey_on_member('id')"###,
        Some(r###"{"1": {"id": 1}, "2": {"id": 2}}"###),
    ),
    (r###"-5 | abs"###, Some(r###"5"###)),
    (r###"true | abs"###, Some(r###"1"###)),
    (
        r###"[0.2, 0.1] | union([0.1])"###,
        Some(r###"[0.2, 0.1]"###),
    ),
    (r###"(5 | log(1)) > 1"###, None),
];

/// Equal, floats within a rounding step: serde_json parses a float's text to the nearest
/// double or the one beside it.
fn same(a: Option<&Json>, b: Option<&Json>) -> bool {
    match (a, b) {
        (Some(Json::Number(x)), Some(Json::Number(y))) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= x.abs().max(y.abs()) * 4.0 * f64::EPSILON
        }
        (Some(Json::Array(x)), Some(Json::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(Some(p), Some(q)))
        }
        (Some(Json::Object(x)), Some(Json::Object(y))) => {
            x.len() == y.len() && x.iter().all(|(k, p)| same(Some(p), y.get(k)))
        }
        _ => a == b,
    }
}

#[test]
fn every_supported_filter_and_test_gives_what_ansible_gives() {
    let hostvars: Json = serde_json::from_str(VARS).expect("JSON");
    let mut wrong = Vec::new();
    for &(expr, want) in CASES {
        let want: Option<Json> = want.map(|w| serde_json::from_str(w).expect("JSON"));
        let got = compose_one(expr, hostvars.clone());
        if !same(got.as_ref(), want.as_ref()) {
            wrong.push(format!("{expr}: got {got:?}, Ansible {want:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
