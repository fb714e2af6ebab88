//! The phase-script translator: a script (`../shared/conformance/SPEC.md`)
//! to the JavaScript program that `node-runner.js` interprets it as,
//! op for op: the same calls in the same order, the log lines collected
//! and written once at exit (so no stdout I/O happens inside the loop, as
//! in the runner).

use serde_json::Value;
use std::fmt::Write;

/// The program for a script's JSON text; `Err` names what is malformed.
pub fn to_js(json: &str) -> Result<String, String> {
    let v: Value = serde_json::from_str(json).map_err(|e| format!("JSON: {e}"))?;
    let main = v
        .get("main")
        .and_then(Value::as_array)
        .ok_or("no main array")?;
    let mut t = Translator::default();
    let mut body = String::new();
    t.ops(main, 1, &mut body)?;
    let mut js = String::new();
    js.push_str("'use strict';\n");
    if let Some(name) = v.get("name").and_then(Value::as_str) {
        let _ = writeln!(js, "// {name}");
    }
    if t.uses_fs {
        js.push_str("const fs = require('fs');\n");
    }
    js.push_str(concat!(
        "const out = [];\n",
        "process.on('exit', () => process.stdout.write(out.join('')));\n",
        "const bound = new Map();\n",
        "const bind = (id, immediate, h) => { bound.set(id, { immediate, h }); };\n",
    ));
    js.push_str(&body);
    Ok(js)
}

#[derive(Default)]
struct Translator {
    n: usize,
    uses_fs: bool,
}

fn lit(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

fn ms_of(v: &Value) -> Result<u64, String> {
    v.get("ms")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("bad ms in {v}"))
}

impl Translator {
    fn ops(&mut self, ops: &[Value], depth: usize, out: &mut String) -> Result<(), String> {
        for op in ops {
            self.op(op, depth, out)?;
        }
        Ok(())
    }

    fn block(&mut self, v: &Value, depth: usize) -> Result<String, String> {
        let ops = v.as_array().ok_or_else(|| format!("not an op list: {v}"))?;
        let mut s = String::new();
        self.ops(ops, depth + 1, &mut s)?;
        Ok(s)
    }

    fn op(&mut self, op: &Value, depth: usize, out: &mut String) -> Result<(), String> {
        let obj = op.as_object().ok_or_else(|| format!("not an op: {op}"))?;
        let (k, v) = obj.iter().next().ok_or("empty op")?;
        let ind = "  ".repeat(depth - 1);
        let close = ind.clone();
        match k.as_str() {
            "log" => {
                let s = v.as_str().ok_or("log needs a string")?;
                let _ = writeln!(out, "{ind}out.push({});", lit(&format!("{s}\n")));
            }
            "nextTick" | "microtask" | "fs" => {
                let call = match k.as_str() {
                    "nextTick" => "process.nextTick(",
                    "microtask" => "queueMicrotask(",
                    _ => {
                        self.uses_fs = true;
                        "fs.stat('.', "
                    }
                };
                let b = self.block(v, depth)?;
                let _ = write!(out, "{ind}{call}() => {{\n{b}{close}}});\n");
            }
            "timeout" => {
                let ms = ms_of(v)?.max(1);
                let b = self.block(v.get("do").ok_or("timeout without do")?, depth)?;
                let call = format!("setTimeout(() => {{\n{b}{close}}}, {ms})");
                match v.get("id").and_then(Value::as_str) {
                    Some(id) => {
                        let _ = writeln!(out, "{ind}bind({}, false, {call});", lit(id));
                    }
                    None => {
                        let _ = writeln!(out, "{ind}{call};");
                    }
                }
            }
            "interval" => {
                let ms = ms_of(v)?.max(1);
                let times = v.get("times").and_then(Value::as_u64).unwrap_or(1);
                self.n += 1;
                let (runs, h) = (format!("runs{}", self.n), format!("h{}", self.n));
                let b = self.block(v.get("do").ok_or("interval without do")?, depth)?;
                let _ = writeln!(out, "{ind}{{");
                let _ = writeln!(out, "{ind}  let {runs} = 0;");
                let _ = write!(
                    out,
                    "{ind}  const {h} = setInterval(() => {{\n{b}{ind}    if (++{runs} === {times}) clearInterval({h});\n{ind}  }}, {ms});\n"
                );
                if let Some(id) = v.get("id").and_then(Value::as_str) {
                    let _ = writeln!(out, "{ind}  bind({}, false, {h});", lit(id));
                }
                let _ = writeln!(out, "{ind}}}");
            }
            "immediate" => {
                let b = self.block(v.get("do").ok_or("immediate without do")?, depth)?;
                let call = format!("setImmediate(() => {{\n{b}{close}}})");
                match v.get("id").and_then(Value::as_str) {
                    Some(id) => {
                        let _ = writeln!(out, "{ind}bind({}, true, {call});", lit(id));
                    }
                    None => {
                        let _ = writeln!(out, "{ind}{call};");
                    }
                }
            }
            "clear" => {
                let id = lit(v.as_str().ok_or("clear needs an id")?);
                let _ = writeln!(
                    out,
                    "{ind}{{ const b = bound.get({id}); if (b) (b.immediate ? clearImmediate : clearTimeout)(b.h); }}"
                );
            }
            "unref" | "ref" => {
                let id = lit(v.as_str().ok_or("ref/unref needs an id")?);
                let _ = writeln!(out, "{ind}bound.get({id})?.h.{k}();");
            }
            "busy" => {
                let ms = v.as_u64().ok_or("busy needs ms")?;
                let _ = writeln!(
                    out,
                    "{ind}{{ const end = process.hrtime.bigint() + {ms}000000n; while (process.hrtime.bigint() < end); }}"
                );
            }
            other => return Err(format!("unknown op {other}")),
        }
        Ok(())
    }
}
