/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shuttle policy engine: loads YAML policy files (see shuttle-policy(5)),
 * compiles them into an immutable, reference-counted Policy, and answers
 * decisions without any I/O.
 *
 * Layering: this library knows nothing of containers, sockets or the
 * broker; it sees names and strings.  It depends on src/common only.
 *
 * Lifetime: everything a decision or explanation points to (rule ids, file
 * names, limits, env lists) lives inside the Policy and stays valid for as
 * long as the caller holds a reference.  policy_ref()/policy_unref() are
 * atomic, so a broker can publish a new Policy while requests still hold
 * the old one. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

typedef struct Policy Policy;
typedef struct PolicyRule PolicyRule;

typedef enum PolicyKind {
        POLICY_KIND_IPC,
        POLICY_KIND_INVOKE,
        POLICY_KIND_TRANSFER,
        POLICY_KIND_DEPEND,
        POLICY_KIND_SIGNAL,
        _POLICY_KIND_MAX,
        _POLICY_KIND_INVALID = -1,
} PolicyKind;

typedef enum PolicyVerdict {
        POLICY_DENY,
        POLICY_ALLOW,
} PolicyVerdict;

typedef enum PolicyAudit {
        POLICY_AUDIT_ALL,   /* log every decision */
        POLICY_AUDIT_DENY,  /* log denials only */
        POLICY_AUDIT_NONE,  /* log nothing */
        _POLICY_AUDIT_MAX,
        _POLICY_AUDIT_INVALID = -1,
} PolicyAudit;

/* Access granted to a crossing file or tree; for a FIFO export (ipc, type
 * fifo), the end of it: RO the read end, WO the write end, RW either. */
typedef enum PolicyMode {
        POLICY_MODE_NONE,   /* invoke: file arguments do not cross; ipc: not said */
        POLICY_MODE_RO,
        POLICY_MODE_RW,
        POLICY_MODE_WO,     /* ipc, type fifo only */
        _POLICY_MODE_MAX,
        _POLICY_MODE_INVALID = -1,
} PolicyMode;

typedef enum PolicyIpcType {
        POLICY_IPC_ANY,     /* rule: any type; request: not specified */
        POLICY_IPC_UNIX,
        POLICY_IPC_TCP,
        POLICY_IPC_FIFO,
        POLICY_IPC_MQ,
        POLICY_IPC_SHM,
        _POLICY_IPC_MAX,
        _POLICY_IPC_INVALID = -1,
} PolicyIpcType;

/* What a transfer hands across.  A transfer rule names at most one of
 * these by its key (path, pid, service, host); a rule naming none matches
 * every one. */
typedef enum PolicyName {
        POLICY_NAME_PATH,    /* a file or directory: object = its path in 'from' */
        POLICY_NAME_PID,     /* a process of 'to': object = its executable, as 'to' sees it */
        POLICY_NAME_SERVICE, /* a service 'to' exports: object = its name */
        POLICY_NAME_HOST,    /* the host name of 'to': no object */
        _POLICY_NAME_MAX,
        _POLICY_NAME_INVALID = -1,
} PolicyName;

const char *policy_kind_to_string(PolicyKind k);
PolicyKind policy_kind_from_string(const char *s);
const char *policy_audit_to_string(PolicyAudit a);
PolicyAudit policy_audit_from_string(const char *s);
const char *policy_mode_to_string(PolicyMode m);
PolicyMode policy_mode_from_string(const char *s);
const char *policy_ipc_type_to_string(PolicyIpcType t);
PolicyIpcType policy_ipc_type_from_string(const char *s);
/* "path", "pid", "service", "host": the rule keys. */
const char *policy_name_to_string(PolicyName n);
PolicyName policy_name_from_string(const char *s);
const char *policy_verdict_to_string(PolicyVerdict v);

/* RFC 3339 time as 'until' takes it ("2026-12-31T23:59:59Z", offsets and
 * fractions allowed); reads no clock and no time zone database. */
int policy_parse_timestamp(const char *s, time_t *ret);

/* ---- Diagnostics -------------------------------------------------------
 * One error or warning, printed as "file:line:col: message" (line and
 * column are 1-based; 0 when the problem is the file as a whole, printed
 * as "file: message"). */
typedef struct PolicyDiagnostic {
        char *file;
        unsigned line;
        unsigned column;
        char *message;
} PolicyDiagnostic;

typedef struct PolicyDiagnostics {
        PolicyDiagnostic *errors;
        size_t n_errors;
        PolicyDiagnostic *warnings;
        size_t n_warnings;
} PolicyDiagnostics;

/* Frees the contents (not the struct) and zeroes it; accepts NULL. */
void policy_diagnostics_clear(PolicyDiagnostics *d);
/* Writes one diagnostic; warnings get "warning: " before the message. */
void policy_diagnostic_print(const PolicyDiagnostic *d, bool warning, FILE *f);
/* Writes every error, then every warning, one per line. */
void policy_diagnostics_print(const PolicyDiagnostics *d, FILE *f);

/* ---- Loading ----------------------------------------------------------- */

/* Bounds enforced on every file; exceeding one is a policy error.  Nesting
 * past POLICY_DEPTH_MAX stops the reading of that file at that point. */
#define POLICY_FILE_SIZE_MAX (1024u * 1024u)
#define POLICY_DEPTH_MAX 8u
#define POLICY_SCALAR_MAX 4096u
#define POLICY_INCLUDE_DEPTH_MAX 16u
#define POLICY_ERRORS_MAX 200u
/* ...and on a whole load (a file with its includes and directories). */
#define POLICY_FILES_MAX 10000u
#define POLICY_TOTAL_SIZE_MAX (16u * 1024u * 1024u)
#define POLICY_RULES_MAX 100000u

#define POLICY_TESTS_MAX 100000u

typedef enum PolicyLoadFlags {
        POLICY_LOAD_NO_INCLUDE = 1 << 0,  /* 'include' is an error (fuzzing) */
        POLICY_LOAD_NO_TESTS = 1 << 1,    /* read the 'tests' cases, do not run them */
} PolicyLoadFlags;

/* Loads paths[0..n_paths) (files, or directories whose .yaml and .yml files
 * are loaded in sorted order) as one policy.  On success returns 0 and a
 * policy with one reference in *ret.  If any file has any error, returns
 * -EINVAL, *ret is untouched, and every error found is in diags->errors.
 * Warnings are added to diags->warnings in both cases.  diags may be NULL
 * if the caller does not want them.  Other negative errnos: -ENOMEM. */
int policy_load(const char *const *paths, size_t n_paths, Policy **ret,
                PolicyDiagnostics *diags);
/* Same, with flags.  Without POLICY_LOAD_NO_TESTS (and in policy_load())
 * every case of the files' 'tests' lists is decided once the policy is
 * compiled, and each case that fails is an error at its position: a
 * policy whose tests fail is not returned. */
int policy_load_flags(const char *const *paths, size_t n_paths, PolicyLoadFlags flags, Policy **ret,
                      PolicyDiagnostics *diags);
/* Same, from memory; 'name' is used in diagnostics and as the base for
 * relative includes. */
int policy_load_buffer(const char *name, const void *data, size_t size,
                       PolicyLoadFlags flags, Policy **ret, PolicyDiagnostics *diags);

/* Atomic reference counting.  unref returns NULL so callers can write
 * p = policy_unref(p). */
Policy *policy_ref(Policy *p);
Policy *policy_unref(Policy *p);
static inline void policy_unrefp(Policy **p) {
        if (*p)
                policy_unref(*p);
}

/* ---- Inspection -------------------------------------------------------- */

PolicyVerdict policy_get_default(const Policy *p);
PolicyAudit policy_get_audit(const Policy *p);
size_t policy_get_n_rules(const Policy *p);
/* Number of rules that apply to a kind (a rule may list several kinds). */
size_t policy_get_n_rules_for_kind(const Policy *p, PolicyKind k);

/* The containers that a rule of kind k could pair with the container NAME
 * (its name without the group), NAME being the 'from' side (as_from) or
 * the 'to' side: fn(OTHER) for each literal name a rule pairs it with (a
 * name may come more than once), or fn(NULL) once, and nothing else, when
 * any container could be its partner (a pattern on the other side, or a
 * default that is not deny).  Every pair with NAME in that role that no
 * call names is decided by the default deny, whatever the other's name:
 * the broker looks at only these pairs when a container comes or goes.
 * Shadow, expired and deny rules are counted too (never fewer pairs than
 * needed). */
typedef void (*PolicyPartnerFn)(const char *other, void *userdata);
void policy_for_each_partner(const Policy *p, PolicyKind k, const char *name, bool as_from, PolicyPartnerFn fn,
                             void *userdata);
const PolicyRule *policy_get_rule(const Policy *p, size_t i);
const char *policy_rule_get_id(const PolicyRule *r);
const char *policy_rule_get_file(const PolicyRule *r);
unsigned policy_rule_get_line(const PolicyRule *r);
unsigned policy_rule_get_column(const PolicyRule *r);
/* The rule that has this id, or NULL. */
const PolicyRule *policy_find_rule(const Policy *p, const char *id);
PolicyVerdict policy_rule_get_verdict(const PolicyRule *r);
/* The rule's 'until' into *ret; false if it has none. */
bool policy_rule_get_until(const PolicyRule *r, time_t *ret);
/* 'shadow: true': the rule decides only the shadow decision
 * (policy_decide_shadow()), never what is enforced. */
bool policy_rule_get_shadow(const PolicyRule *r);
/* Number of rules with 'shadow: true'. */
size_t policy_get_n_shadow_rules(const Policy *p);

/* Writes the normalised policy (includes resolved, defaults filled in) as
 * YAML that policy_load() accepts, or as one JSON object. */
int policy_dump_yaml(const Policy *p, FILE *f);
int policy_dump_json(const Policy *p, FILE *f);

/* ---- Deciding ---------------------------------------------------------- */

typedef struct PolicyRequest {
        const char *from;            /* "name" or "group/name" */
        const char *to;
        PolicyKind kind;
        /* ipc: endpoint; invoke: app path; transfer: path in 'from' (or,
         * by name_kind, a process's executable, a service name, nothing);
         * depend: tree path (absolute) or service name; signal: the target
         * process's executable (optional). */
        const char *object;
        PolicyName name_kind;        /* transfer: what crosses; PATH (0) unless set */
        PolicyIpcType ipc_type;      /* ipc: POLICY_IPC_ANY if unknown */
        PolicyMode mode;             /* transfer/depend: access wanted; NONE = ro;
                                      * ipc (fifo): the end wanted, RO or WO;
                                      * NONE = not said (any rule's mode fits) */
        int signal;                  /* signal: the signal number */
        const char *const *args;     /* invoke: argv[1..] */
        size_t n_args;
        const char *const *env;      /* invoke: names the caller wants to pass */
        size_t n_env;
        time_t now;                  /* rules with 'until' < now do not match
                                      * (an allow rule that would have is
                                      * the reason of a default deny:
                                      * POLICY_REASON_EXPIRED) */
} PolicyRequest;

typedef struct PolicyLimits {
        uint64_t rate_count;         /* 0: no rate limit */
        uint64_t rate_interval_usec; /* per this many microseconds */
        uint64_t max_open;           /* 0: no limit */
        uint64_t uses;               /* 0: no limit; else allowed requests per
                                      * calling container (the broker counts) */
} PolicyLimits;

/* The reasons of a deny that an expired rule, or a rule whose uses are
 * spent, would have allowed: audited as such, distinct from a deny. */
#define POLICY_REASON_EXPIRED "expired"
#define POLICY_REASON_USED_UP "used-up"


typedef struct PolicyDecision {
        PolicyVerdict verdict;
        const PolicyRule *rule;      /* NULL when 'default' decided */
        const char *rule_id;         /* "default" when no rule matched, but
                                      * for reason POLICY_REASON_EXPIRED the
                                      * expired allow rule that would have
                                      * matched (rule_file, rule_line too) */
        const char *rule_file;       /* NULL when no rule matched */
        unsigned rule_line;
        const char *reason;          /* static text, for the audit log */
        PolicyLimits limits;
        PolicyMode mode;             /* transfer/depend: granted access;
                                      * invoke: how file arguments cross;
                                      * ipc: the FIFO end granted (the one
                                      * asked for, else the rule's mode) */
        const char *as;              /* transfer: target path, NULL = default
                                      * /run/shuttle/xfer/<basename> */
        const char *at;              /* depend: mount point in 'from' */
        char *const *env;            /* invoke: NULL-terminated allowed names
                                      * (globs); NULL = none pass */
        PolicyAudit audit;           /* the audit setting that applies */
        bool audited;                /* whether to log this decision */
        uint64_t ask_usec;           /* allowed by an 'ask' rule: the request waits
                                      * this long for an operator's answer (then it
                                      * is denied); 0 = allowed outright */
} PolicyDecision;

/* 'ask' on an allow rule: how long a request waits by default and at most. */
#define POLICY_ASK_TIMEOUT_DEFAULT_USEC (UINT64_C(30) * 1000000)
#define POLICY_ASK_TIMEOUT_MAX_USEC (UINT64_C(3600) * 1000000)

/* Decides a request.  No I/O, no allocation.  Returns 0, or -EINVAL for a
 * malformed request (NULL names, bad kind). */
int policy_decide(const Policy *p, const PolicyRequest *req, PolicyDecision *ret);
/* The same with the rules marked 'shadow: true' counted as if they were
 * not marked: what the policy would decide with them enforced.  Limits
 * are the broker's and are not applied to it. */
int policy_decide_shadow(const Policy *p, const PolicyRequest *req, PolicyDecision *ret);

/* ---- Depend grants ----------------------------------------------------
 * A depend rule with a tree is something the broker acts on by itself
 * (it mounts the tree while both containers run), so it needs to know the
 * grants, not only answer requests. */
typedef struct PolicyDependGrant {
        const char *path;            /* the tree in 'to': an absolute path,
                                      * or (glob) the path glob as written */
        const char *at;              /* the mount point in 'from' (= path if
                                      * the rule has no 'at'); glob: the
                                      * rule's 'at' or NULL */
        bool glob;                   /* path is a path glob */
        PolicyMode mode;             /* ro or rw */
        const char *rule_id;
        const char *rule_file;
        unsigned rule_line;
} PolicyDependGrant;

typedef void (*PolicyDependGrantFn)(const PolicyDependGrant *g, void *userdata);

/* Calls fn for every allow rule of kind depend whose from and to match,
 * that is not expired at 'now' and that has a 'path', literal or a path
 * glob (which the caller expands in 'to' itself: the policy does no I/O).
 * Deny rules are not considered: confirm each grant (for a glob, each
 * path it expands to) with policy_decide() (object = path, mode = the
 * grant's), so that a matching deny still wins.  Returns the number of
 * grants, or -EINVAL. */
int policy_for_each_depend(const Policy *p, const char *from, const char *to, time_t now,
                           PolicyDependGrantFn fn, void *userdata);

/* ---- Invoke apps -------------------------------------------------------
 * The broker shows a container the apps it may invoke in another one as
 * /run/shuttle/apps/<target>/<name>, and resolves the bare name an INVOKE
 * may give to one of them: both need the apps the rules name. */
typedef struct PolicyInvokeApp {
        const char *path;            /* the app in 'to': an absolute path */
        const char *name;            /* its last component (points into path) */
        bool denied;                 /* a deny rule that looks at no argument
                                      * matches from, to and path: every
                                      * invocation of it is refused */
        const char *rule_id;         /* the allow rule that names it */
        const char *rule_file;
        unsigned rule_line;
} PolicyInvokeApp;

typedef void (*PolicyInvokeAppFn)(const PolicyInvokeApp *a, void *userdata);

/* Calls fn for every allow rule of kind invoke whose from and to match,
 * that is not expired at 'now' and whose 'app' is a literal absolute path
 * (an app glob names no one app; such rules only answer requests).  'args'
 * and 'env' are not considered: an app is listed when some invocation of it
 * may be allowed, and policy_decide() still decides each one.  A path named
 * by several rules comes once per rule.  Returns the number of calls, or
 * -EINVAL. */
int policy_for_each_invoke_app(const Policy *p, const char *from, const char *to, time_t now,
                               PolicyInvokeAppFn fn, void *userdata);

/* True if the environment variable 'name' may pass under this decision. */
bool policy_decision_env_allowed(const PolicyDecision *d, const char *name);

/* ---- Tests -------------------------------------------------------------
 * A policy file may carry a 'tests' list: requests with the decision they
 * must get (shuttle-policy(5)).  They are kept in the policy in file
 * order. */
size_t policy_get_n_tests(const Policy *p);

typedef struct PolicyTestResult {
        const char *file;            /* where the case is */
        unsigned line, column;
        const char *name;            /* its 'name', or NULL */
        const PolicyRequest *request;
        PolicyVerdict expect;
        const char *expect_rule;     /* its 'rule', or NULL: any rule */
        PolicyDecision decision;     /* what the policy decided */
        bool passed;
} PolicyTestResult;

/* Decides case i (no I/O, no allocation): its 'now', else the clock.
 * Returns 0 (the verdict in ret->passed), or -EINVAL. */
int policy_test_run(const Policy *p, size_t i, PolicyTestResult *ret);
/* "web -> db ipc endpoint=kv" into buf (truncated to size). */
void policy_request_format(const PolicyRequest *req, char *buf, size_t size);
/* Why a result failed, one line ("expected allow by rule 'a', got deny by
 * rule 'b' (p.yaml:12)"), or what it got. */
void policy_test_result_format(const PolicyTestResult *t, char *buf, size_t size);

/* ---- Lint ----------------------------------------------------------------
 * Rules that can never decide anything, patterns that name no container
 * of the groups known, rules no audit record shows deciding. */
typedef enum PolicyLintKind {
        POLICY_LINT_SHADOWED,        /* another rule decides every request it matches */
        POLICY_LINT_NO_CONTAINER,    /* from/to matches no container of a known group */
        POLICY_LINT_UNUSED,          /* decided nothing in the audit window */
        _POLICY_LINT_KIND_MAX,
} PolicyLintKind;

const char *policy_lint_kind_to_string(PolicyLintKind k);

typedef struct PolicyLintGroup {
        const char *name;
        const char *const *containers;
        size_t n_containers;
} PolicyLintGroup;

typedef struct PolicyLintOptions {
        /* Groups whose containers are known.  A pattern 'G/N' with a literal
         * group G among them must match one of G's containers. */
        const PolicyLintGroup *groups;
        size_t n_groups;
        /* The policy is this group's own (it decides only requests from its
         * containers): every 'from' must match one of them.  NULL: none. */
        const char *own_group;
        /* With used != NULL, every rule whose decisions are audited and for
         * which used(id) is false is reported as unused. */
        bool (*used)(const char *rule_id, void *userdata);
        void *userdata;
        time_t now;                  /* rules expired at 'now' are left alone */
} PolicyLintOptions;

typedef struct PolicyLintFinding {
        PolicyLintKind kind;
        const PolicyRule *rule;      /* the rule at fault */
        const PolicyRule *by;        /* shadowed: the rule that decides instead */
        char *message;               /* one line, without the position */
} PolicyLintFinding;

typedef struct PolicyLintResult {
        PolicyLintFinding *findings; /* in rule order */
        size_t n_findings;
        size_t n_not_audited;        /* rules 'used' could not judge (their
                                      * decisions are not audited) */
} PolicyLintResult;

int policy_lint(const Policy *p, const PolicyLintOptions *opts, PolicyLintResult *ret);
void policy_lint_result_clear(PolicyLintResult *r);

/* ---- Explaining -------------------------------------------------------- */

typedef enum PolicyMatchStatus {
        POLICY_MATCH,        /* every field matched */
        POLICY_NEAR_MISS,    /* exactly one field did not match */
        POLICY_EXPIRED,      /* matched, but 'until' has passed */
} PolicyMatchStatus;

typedef struct PolicyExplainEntry {
        const PolicyRule *rule;
        PolicyMatchStatus status;
        const char *field;   /* near miss: the field that did not match */
        char *detail;        /* human-readable, e.g. "'db' does not match 'db-*'" */
        bool winner;
} PolicyExplainEntry;

typedef struct PolicyExplanation {
        PolicyDecision decision;
        PolicyExplainEntry *entries;  /* in file order */
        size_t n_entries;
        char *why;                    /* why the winner won */
} PolicyExplanation;

int policy_explain(const Policy *p, const PolicyRequest *req, PolicyExplanation *ret);
void policy_explanation_clear(PolicyExplanation *e);
void policy_explanation_print(const PolicyExplanation *e, FILE *f);
int policy_explanation_print_json(const PolicyExplanation *e, const PolicyRequest *req, FILE *f);

/* ---- Reachability ------------------------------------------------------
 * The policy as a graph over containers: an edge X -> Y (a "hop") for every
 * way an allowed interaction lets X affect Y, with the rule that allows it.
 * Which hops each kind of rule gives is in shuttle-policy(5), REACHABILITY;
 * in short (F, T the rule's from and to):
 *   ipc           F -> T  F's requests reach T's service (not for a FIFO
 *                         rule with mode ro: F only reads)
 *   ipc-reply     T -> F  T's answers, queue or memory reach F (not for a
 *                         FIFO rule with mode wo: F only writes)
 *   invoke        F -> T  F runs an app in T, with its args, stdin, env
 *   invoke-reply  T -> F  the app's output and exit status reach F
 *   transfer      F -> T  a file of F's is visible in T (path rules)
 *   transfer-rw   T -> F  ... and T may write it (mode rw)
 *   depend        T -> F  a tree of T's is mounted in F (tree rules)
 *   depend-rw     F -> T  ... and F may write it (mode rw)
 *   signal        F -> T  F signals T's processes
 * Names (transfer of pid, service, host) and ordering-only depend rules
 * give no hop.  A hop exists for a pair unless a deny rule that matches the
 * pair refuses everything the allow rule grants that makes the hop (its
 * paths, its trees), key by key as policy lint and the declared graph
 * compare rules (cover.c: an object key left out, the same pattern, a
 * literal the deny's pattern matches, a glob the deny's glob matches all
 * of); when in doubt the hop is kept.  With 'default: allow'
 * every pair has every hop a deny rule does not take away, with rule id
 * "default".  Rules expired at 'now' give nothing.
 *
 * Containers are the literal names of the rules' from/to and the names the
 * caller adds (an app group's containers, the names asked about); globs are
 * expanded against them. */
typedef enum PolicyHop {
        POLICY_HOP_IPC,
        POLICY_HOP_IPC_REPLY,
        POLICY_HOP_INVOKE,
        POLICY_HOP_INVOKE_REPLY,
        POLICY_HOP_TRANSFER,
        POLICY_HOP_TRANSFER_RW,
        POLICY_HOP_DEPEND,
        POLICY_HOP_DEPEND_RW,
        POLICY_HOP_SIGNAL,
        _POLICY_HOP_MAX,
        _POLICY_HOP_INVALID = -1,
} PolicyHop;

const char *policy_hop_to_string(PolicyHop h);
/* "name" or "group/name", each part as container names are. */
bool policy_container_name_is_valid(const char *s);
PolicyHop policy_hop_from_string(const char *s);

typedef struct PolicyReach PolicyReach;

/* One way X affects Y: the hop and the allow rule (rule_file NULL and
 * rule_id "default" for the policy's default). */
typedef struct PolicyReachVia {
        PolicyHop hop;
        const char *rule_id;
        const char *rule_file;
        unsigned rule_line;
} PolicyReachVia;

typedef struct PolicyReachStep {
        const char *from, *to;
        PolicyReachVia *via;         /* every hop from 'from' to 'to', by hop then file order */
        size_t n_via;
} PolicyReachStep;

typedef struct PolicyReachPath {
        const char *to;              /* the last container */
        PolicyReachStep *steps;
        size_t n_steps;
} PolicyReachPath;

typedef struct PolicyReachResult {
        PolicyReachPath *paths;
        size_t n_paths;
        bool truncated;              /* more paths than asked for (or the work bound hit) */
        size_t n_containers;         /* nodes of the graph */
} PolicyReachResult;

/* Builds the graph of p at 'now' over its literal container names and
 * names[0..n_names) ("name" or "group/name"; -EINVAL for one that is not a
 * container name).  Holds a reference on p.  hops: a mask of
 * 1 << PolicyHop to follow, 0 for all. */
int policy_reach_new(Policy *p, const char *const *names, size_t n_names, time_t now, unsigned hops,
                     PolicyReach **ret);
PolicyReach *policy_reach_free(PolicyReach *g);
static inline void policy_reach_freep(PolicyReach **g) {
        if (*g)
                policy_reach_free(*g);
}
/* Everything 'from' reaches in at most max_hops hops (0: no bound): one
 * shortest path to each container, by number of hops, then name.  -ENOENT
 * if 'from' is not a container of the graph. */
int policy_reach_from(PolicyReach *g, const char *from, unsigned max_hops, PolicyReachResult *ret);
/* Every path without a repeated container from 'from' to 'to' of at most
 * max_hops hops (>= 1; more than POLICY_REACH_PATH_HOPS_MAX counts as that
 * many), shortest first, at most max_paths of them; 'truncated' if there
 * were more, or if the search took more than a bounded amount of work. */
#define POLICY_REACH_PATH_HOPS_MAX 256u
int policy_reach_paths(PolicyReach *g, const char *from, const char *to, unsigned max_hops, size_t max_paths,
                       PolicyReachResult *ret);
void policy_reach_result_clear(PolicyReachResult *r);
