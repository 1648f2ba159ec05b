/* out_csv.c — CSV output (RFC 4180) and the output files of every command.
 *
 * A field is quoted only when it holds the delimiter, a quote or a line
 * break; quotes inside are doubled. Lines end in "\n" (not RFC 4180's CRLF:
 * every tool that reads CSV on Linux accepts it, and gnuplot and libCacheSim
 * expect it).
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "mmsim.h"

static void end_field(FILE *f, bool last)
{
	fputc(last ? '\n' : ',', f);
}

void csv_field(FILE *f, const char *s, bool last)
{
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	end_field(f, last);
}

void csv_u64(FILE *f, uint64_t v, bool last)
{
	fprintf(f, "%llu", (unsigned long long)v);
	end_field(f, last);
}

void csv_double(FILE *f, double v, bool last)
{
	if (isfinite(v))
		fprintf(f, "%.10g", v);
	end_field(f, last);
}

/* ---- Output files ------------------------------------------------------- */

FILE *out_open(const char *cmd, const char *path)
{
	if (strcmp(path, "-") == 0)
		return stdout;
	FILE *f = fopen(path, "w");
	if (!f)
		mmsim_err(cmd, "cannot write %s: %s", path, strerror(errno));
	return f;
}

int out_close(const char *cmd, const char *path, FILE *f)
{
	int bad = ferror(f);
	if (f == stdout) {
		bad |= fflush(f) != 0;
	} else {
		bad |= fclose(f) != 0;
	}
	if (bad) {
		mmsim_err(cmd, "error writing %s: %s", strcmp(path, "-") == 0 ? "standard output" : path,
			  strerror(errno ? errno : EIO));
		return EXIT_IO;
	}
	return 0;
}
