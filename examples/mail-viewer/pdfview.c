/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pdfview: a stand-in PDF viewer, for the mail-viewer example.
 *
 *   pdfview FILE.pdf            "render" it: its size, PDF version, title,
 *                               page count and a checksum
 *   pdfview --annotate FILE.pdf append an annotation to it
 *
 * It refuses anything that does not start with a %PDF- header.  It also
 * says whether it may write the file, so that a read-only transfer shows. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define MAX_SIZE (16u << 20)

static int usage(void) {
        fprintf(stderr, "usage: pdfview [--annotate] FILE.pdf\n");
        return 2;
}

static int annotate(const char *path) {
        static const char note[] = "% annotated by pdfview\n";
        int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (fd < 0 || write(fd, note, sizeof note - 1) != (ssize_t)(sizeof note - 1)) {
                fprintf(stderr, "pdfview: cannot annotate %s: %s\n", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return 1;
        }
        close(fd);
        printf("pdfview: annotated %s\n", path);
        return 0;
}

/* The count of "/Type /Page" (not "/Pages") in BUF. */
static unsigned count_pages(const char *buf, size_t len) {
        static const char key[] = "/Type /Page";
        const size_t klen = sizeof key - 1;
        unsigned n = 0;
        for (size_t i = 0; i + klen <= len; i++)
                if (memcmp(buf + i, key, klen) == 0 && (i + klen == len || buf[i + klen] != 's'))
                        n++;
        return n;
}

/* The text of "/Title (...)" in BUF, into OUT, or "(none)". */
static void find_title(const char *buf, size_t len, char *out, size_t outlen) {
        static const char key[] = "/Title (";
        const size_t klen = sizeof key - 1;
        snprintf(out, outlen, "(none)");
        for (size_t i = 0; i + klen <= len; i++) {
                if (memcmp(buf + i, key, klen) != 0)
                        continue;
                size_t j = i + klen, k = 0;
                while (j < len && buf[j] != ')' && k + 1 < outlen)
                        out[k++] = buf[j++];
                out[k] = '\0';
                return;
        }
}

static int render(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "pdfview: %s: %s\n", path, strerror(errno));
                return 1;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uintmax_t)st.st_size > MAX_SIZE) {
                fprintf(stderr, "pdfview: %s: not a regular file of at most 16 MiB\n", path);
                close(fd);
                return 1;
        }
        size_t size = (size_t)st.st_size, got = 0;
        char *buf = malloc(size + 1);
        if (!buf) {
                fprintf(stderr, "pdfview: out of memory\n");
                close(fd);
                return 1;
        }
        while (got < size) {
                ssize_t r = read(fd, buf + got, size - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        struct statvfs vfs;
        int ro = fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
        close(fd);
        buf[got] = '\0';

        if (got < 8 || memcmp(buf, "%PDF-", 5) != 0) {
                fprintf(stderr, "pdfview: %s: not a PDF file (no %%PDF- header)\n", path);
                free(buf);
                return 1;
        }
        char version[16];
        size_t v = 0;
        while (v + 1 < sizeof version && 5 + v < got && buf[5 + v] != '\n' && buf[5 + v] != '\r')
                version[v] = buf[5 + v], v++;
        version[v] = '\0';

        uint32_t sum = 2166136261u; /* FNV-1a */
        for (size_t i = 0; i < got; i++)
                sum = (sum ^ (unsigned char)buf[i]) * 16777619u;
        char title[128];
        find_title(buf, got, title, sizeof title);

        printf("pdfview: %s\n", path);
        printf("  PDF version %s, %zu bytes, %u page(s), checksum %08x\n", version, got,
               count_pages(buf, got), sum);
        printf("  title: %s\n", title);
        printf("  access: %s\n", ro ? "read-only (on a read-only mount: this viewer cannot change it)" : "read-write");
        free(buf);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "--annotate") == 0)
                return annotate(argv[2]);
        if (argc != 2 || argv[1][0] == '-')
                return usage();
        return render(argv[1]);
}
