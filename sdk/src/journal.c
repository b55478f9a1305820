/*
 * journal.c - the install journal on flash (see journal.h). Format: one
 * "key=value" per line, keys fixed, ending with "end=1".
 */
#include "private/journal.h"
#include "haas_util.h"

bool journal_path(char *out, const char *work_dir, const char *name)
{
    haas_sb sb;
    haas_sb_init(&sb, out, 192);
    haas_sb_str(&sb, work_dir);
    haas_sb_str(&sb, "/");
    haas_sb_str(&sb, name);
    return sb.ok;
}

static void line_str(haas_sb *sb, const char *key, const char *value)
{
    haas_sb_str(sb, key);
    haas_sb_str(sb, "=");
    haas_sb_str(sb, value);
    haas_sb_str(sb, "\n");
}

static void line_num(haas_sb *sb, const char *key, int64_t value)
{
    haas_sb_str(sb, key);
    haas_sb_str(sb, "=");
    haas_sb_i64(sb, value);
    haas_sb_str(sb, "\n");
}

int journal_save(const haas_port *port, const char *work_dir, const haas_journal *j, char *buf, size_t buflen,
                 char *path, char *path2)
{
    haas_sb sb;
    haas_sb_init(&sb, buf, buflen);
    line_num(&sb, "state", j->state);
    line_str(&sb, "appId", j->app_id);
    line_str(&sb, "version", j->version);
    line_str(&sb, "oldVersion", j->old_version);
    line_str(&sb, "url", j->url);
    line_str(&sb, "md5", j->md5);
    line_num(&sb, "size", (int64_t)j->size);
    line_num(&sb, "boots", j->boots);
    line_num(&sb, "code", j->code);
    haas_sb_str(&sb, "end=1\n");
    if (!sb.ok || !journal_path(path, work_dir, "journal.tmp") || !journal_path(path2, work_dir, "journal"))
        return HAAS_PORT_ERR;
    haas_file f = port->file_open(port->ctx, path, HAAS_FILE_WRITE);
    if (!f)
        return HAAS_PORT_ERR;
    int rc = port->file_write(port->ctx, f, buf, sb.len);
    if (rc == 0)
        rc = port->file_sync(port->ctx, f);
    int rc2 = port->file_close(port->ctx, f);
    if (rc == 0)
        rc = rc2;
    if (rc == 0)
        rc = port->rename(port->ctx, path, path2);
    return rc;
}

int journal_clear(const haas_port *port, const char *work_dir, char *path)
{
    if (!journal_path(path, work_dir, "journal"))
        return HAAS_PORT_ERR;
    if (port->path_kind(port->ctx, path) == 0)
        return 0;
    return port->remove_file(port->ctx, path);
}

/* Copies a value of [v, v+n) into out (cap bytes); false when too long. */
static bool take(char *out, size_t cap, const char *v, size_t n)
{
    if (n >= cap)
        return false;
    haas_memcpy(out, v, n);
    out[n] = '\0';
    return true;
}

static bool take_num(uint64_t *out, const char *v, size_t n, bool *negative)
{
    *negative = n > 0 && v[0] == '-';
    return haas_parse_u64(v + *negative, n - *negative, out);
}

void journal_load(const haas_port *port, const char *work_dir, haas_journal *j, char *buf, size_t buflen,
                  char *path)
{
    haas_memset(j, 0, sizeof *j);
    if (!journal_path(path, work_dir, "journal"))
        return;
    haas_file f = port->file_open(port->ctx, path, HAAS_FILE_READ);
    if (!f)
        return;
    size_t len = 0;
    long n;
    while (len < buflen && (n = port->file_read(port->ctx, f, buf + len, buflen - len)) > 0)
        len += (size_t)n;
    port->file_close(port->ctx, f);
    if (len >= buflen)
        return; /* larger than any journal we write */

    haas_journal r;
    haas_memset(&r, 0, sizeof r);
    bool ok = true, ended = false;
    size_t pos = 0;
    while (ok && pos < len && !ended) {
        size_t eol = pos;
        while (eol < len && buf[eol] != '\n')
            eol++;
        if (eol == len)
            break; /* a last line without newline: incomplete */
        size_t eq = pos;
        while (eq < eol && buf[eq] != '=')
            eq++;
        if (eq == eol) {
            ok = false;
            break;
        }
        const char *key = buf + pos, *v = buf + eq + 1;
        size_t klen = eq - pos, vlen = eol - eq - 1;
        uint64_t num = 0;
        bool neg = false;
#define KEY(k) (klen == sizeof(k) - 1 && haas_memcmp(key, k, klen) == 0)
        if (KEY("state"))
            ok = take_num(&num, v, vlen, &neg) && !neg && num <= JOURNAL_REPORT, r.state = (journal_state)num;
        else if (KEY("appId"))
            ok = take(r.app_id, sizeof r.app_id, v, vlen);
        else if (KEY("version"))
            ok = take(r.version, sizeof r.version, v, vlen);
        else if (KEY("oldVersion"))
            ok = take(r.old_version, sizeof r.old_version, v, vlen);
        else if (KEY("url"))
            ok = take(r.url, sizeof r.url, v, vlen);
        else if (KEY("md5"))
            ok = take(r.md5, sizeof r.md5, v, vlen);
        else if (KEY("size"))
            ok = take_num(&r.size, v, vlen, &neg) && !neg;
        else if (KEY("boots"))
            ok = take_num(&num, v, vlen, &neg) && !neg && num < 1000, r.boots = (uint32_t)num;
        else if (KEY("code"))
            ok = take_num(&num, v, vlen, &neg) && num < 1000, r.code = (int32_t)(neg ? -(int64_t)num : (int64_t)num);
        else if (KEY("end"))
            ended = true;
#undef KEY
        pos = eol + 1;
    }
    if (ok && ended)
        *j = r;
}
