/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The normalised policy: includes resolved, defaults filled in.  Built once
 * as a JSON tree (jansson) and written either as JSON or as YAML (libyaml's
 * emitter) that policy_load() reads back to the same policy. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "policy/policy-internal.h"

static int set_str(json_t *o, const char *k, const char *v) {
        return json_object_set_new(o, k, json_string(v));
}

static json_t *kinds_json(unsigned kinds) {
        json_t *a = json_array();
        for (PolicyKind k = 0; k < _POLICY_KIND_MAX; k++)
                if (kinds & KIND_BIT(k))
                        json_array_append_new(a, json_string(policy_kind_to_string(k)));
        return a;
}

static json_t *strv_json(char *const *v) {
        json_t *a = json_array();
        for (; v && *v; v++)
                json_array_append_new(a, json_string(*v));
        return a;
}

static json_t *rule_json(const Policy *p, const PolicyRule *r, bool with_source) {
        json_t *o = json_object();
        char buf[512];

        set_str(o, "id", r->id);
        if (with_source) {
                snprintf(buf, sizeof(buf), "%s:%u:%u", r->file, r->line, r->column);
                set_str(o, "source", buf);
        }
        set_str(o, "from", r->from.text);
        set_str(o, "to", r->to.text);
        json_object_set_new(o, policy_verdict_to_string(r->verdict), kinds_json(r->kinds));

        if (r->kinds & KIND_BIT(POLICY_KIND_IPC)) {
                if (glob_is_set(&r->endpoint))
                        set_str(o, "endpoint", r->endpoint.pattern);
                if (r->ipc_type != POLICY_IPC_ANY)
                        set_str(o, "type", policy_ipc_type_to_string(r->ipc_type));
        }
        if (glob_is_set(&r->app))
                set_str(o, "app", r->app.pattern);
        if (r->kinds & KIND_BIT(POLICY_KIND_INVOKE)) {
                if (r->has_args) {
                        json_t *a = json_array();
                        for (size_t i = 0; i < r->n_args; i++)
                                json_array_append_new(a, json_string(r->args[i].pattern));
                        if (r->args_rest)
                                json_array_append_new(a, json_string("..."));
                        json_object_set_new(o, "args", a);
                }
                if (r->verdict == POLICY_ALLOW) {
                        json_object_set_new(o, "env", strv_json(r->env));
                        set_str(o, "transfer", policy_mode_to_string(r->invoke_transfer));
                }
        }
        if (glob_is_set(&r->path))
                set_str(o, "path", r->path.pattern);
        if (r->verdict == POLICY_ALLOW && (r->kinds & (KIND_BIT(POLICY_KIND_TRANSFER) | KIND_BIT(POLICY_KIND_DEPEND))) &&
            !glob_is_set(&r->service) && !glob_is_set(&r->pid) && !r->host)
                set_str(o, "mode", policy_mode_to_string(r->mode));
        else if (r->verdict == POLICY_ALLOW && (r->kinds & KIND_BIT(POLICY_KIND_IPC)) && r->ipc_mode != POLICY_MODE_NONE)
                set_str(o, "mode", policy_mode_to_string(r->ipc_mode));
        if (r->as)
                set_str(o, "as", r->as);
        if (r->at)
                set_str(o, "at", r->at);
        if (glob_is_set(&r->service))
                set_str(o, "service", r->service.pattern);
        if (glob_is_set(&r->pid))
                set_str(o, "pid", r->pid.pattern);
        if (r->host)
                json_object_set_new(o, "host", json_true());
        if (r->signal_names)
                json_object_set_new(o, "signals", strv_json(r->signal_names));
        set_str(o, "audit", policy_audit_to_string(r->has_audit ? r->audit : p->audit));
        if (r->rate_text || r->limits.max_open || r->limits.uses) {
                json_t *l = json_object();
                if (r->rate_text)
                        set_str(l, "rate", r->rate_text);
                if (r->limits.max_open)
                        json_object_set_new(l, "max_open", json_integer((json_int_t) r->limits.max_open));
                if (r->limits.uses)
                        json_object_set_new(l, "uses", json_integer((json_int_t) r->limits.uses));
                json_object_set_new(o, "limit", l);
        }
        if (r->ask_usec) {
                char t[32];
                if (r->ask_usec % 1000000 == 0)
                        snprintf(t, sizeof(t), "%llus", (unsigned long long) (r->ask_usec / 1000000));
                else
                        snprintf(t, sizeof(t), "%llums", (unsigned long long) (r->ask_usec / 1000));
                json_object_set_new(o, "ask", json_pack("{s:s}", "timeout", t));
        }
        if (r->has_until && format_timestamp(r->until, buf, sizeof(buf)) >= 0)
                set_str(o, "until", buf);
        if (r->shadow)
                json_object_set_new(o, "shadow", json_true());
        return o;
}

static json_t *policy_json(const Policy *p, bool with_source) {
        json_t *o = json_object(), *rules = json_array();

        json_object_set_new(o, "version", json_integer(1));
        set_str(o, "default", policy_verdict_to_string(p->default_verdict));
        set_str(o, "audit", policy_audit_to_string(p->audit));
        for (size_t i = 0; i < p->n_rules; i++)
                json_array_append_new(rules, rule_json(p, p->rules[i], with_source));
        json_object_set_new(o, "rules", rules);
        return o;
}

int policy_dump_json(const Policy *p, FILE *f) {
        json_t *o = policy_json(p, true);
        int r;

        if (!o)
                return -ENOMEM;
        r = json_dumpf(o, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', f);
        json_decref(o);
        return r < 0 ? -EIO : 0;
}

/* Strings that a YAML reader would take for something else are quoted. */
static bool needs_quotes(const char *s) {
        static const char *const words[] = { "true", "false", "yes", "no", "on", "off",
                                             "null", "~", "" };
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        return strspn(s, "0123456789.+-eE") == strlen(s);
}

static int emit(yaml_emitter_t *e, yaml_event_t *ev) {
        return yaml_emitter_emit(e, ev) ? 0 : -EIO;
}

static int emit_json(yaml_emitter_t *e, json_t *j) {
        yaml_event_t ev;
        char buf[32];
        int r;

        switch (json_typeof(j)) {
        case JSON_OBJECT: {
                const char *k;
                json_t *v;
                yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
                if ((r = emit(e, &ev)) < 0)
                        return r;
                json_object_foreach(j, k, v) {
                        yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *) k, -1, 1, 1,
                                                     YAML_PLAIN_SCALAR_STYLE);
                        if ((r = emit(e, &ev)) < 0 || (r = emit_json(e, v)) < 0)
                                return r;
                }
                yaml_mapping_end_event_initialize(&ev);
                return emit(e, &ev);
        }
        case JSON_ARRAY: {
                size_t i;
                json_t *v;
                bool flow = true;
                json_array_foreach(j, i, v)
                        if (!json_is_string(v))
                                flow = false;
                yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                     flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
                if ((r = emit(e, &ev)) < 0)
                        return r;
                json_array_foreach(j, i, v)
                        if ((r = emit_json(e, v)) < 0)
                                return r;
                yaml_sequence_end_event_initialize(&ev);
                return emit(e, &ev);
        }
        case JSON_INTEGER:
                snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
                yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *) buf, -1, 1, 1,
                                             YAML_PLAIN_SCALAR_STYLE);
                return emit(e, &ev);
        case JSON_TRUE:
        case JSON_FALSE:
                yaml_scalar_event_initialize(&ev, NULL, NULL,
                                             (const yaml_char_t *) (json_is_true(j) ? "true" : "false"), -1, 1, 1,
                                             YAML_PLAIN_SCALAR_STYLE);
                return emit(e, &ev);
        case JSON_STRING: {
                const char *s = json_string_value(j);
                yaml_scalar_event_initialize(&ev, NULL, NULL, (const yaml_char_t *) s, -1, 1, 1,
                                             needs_quotes(s) ? YAML_DOUBLE_QUOTED_SCALAR_STYLE
                                                             : YAML_ANY_SCALAR_STYLE);
                return emit(e, &ev);
        }
        default:
                return -EINVAL;
        }
}

int policy_dump_yaml(const Policy *p, FILE *f) {
        yaml_emitter_t e;
        yaml_event_t ev;
        json_t *o;
        int r;

        o = policy_json(p, false);
        if (!o)
                return -ENOMEM;
        if (!yaml_emitter_initialize(&e)) {
                json_decref(o);
                return -ENOMEM;
        }
        yaml_emitter_set_output_file(&e, f);
        yaml_emitter_set_unicode(&e, 1);
        yaml_emitter_set_width(&e, -1);
        yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
        r = emit(&e, &ev);
        if (r >= 0) {
                yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
                r = emit(&e, &ev);
        }
        if (r >= 0)
                r = emit_json(&e, o);
        if (r >= 0) {
                yaml_document_end_event_initialize(&ev, 1);
                r = emit(&e, &ev);
        }
        if (r >= 0) {
                yaml_stream_end_event_initialize(&ev);
                r = emit(&e, &ev);
        }
        yaml_emitter_delete(&e);
        json_decref(o);
        return r;
}
