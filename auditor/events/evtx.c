/* memfd_create, which glibc declares only for GNU sources. */
#define _GNU_SOURCE

/* The .evtx reader: libevtx renders each record as XML, and the shared
 * parser of xml.c takes it from there. Records are read one at a time, so
 * memory does not grow with the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* libevtx.h includes libbfio.h when features.h announces libbfio support,
 * but libevtx-dev does not install libbfio's headers. No libbfio function
 * is used here, so turn that part of the header off. */
#include <libevtx/features.h>
#undef LIBEVTX_HAVE_BFIO
#include <libevtx.h>

#include "auditor/events/reader.h"
#include "auditor/events/xml.h"

#define EVTX_SIGNATURE "ElfFile"  /* 8 bytes with its NUL */
#define LIBEVTX_MESSAGE_MAX 512

/* Copies libevtx's message for error into buffer, quoted for a terminal. */
static void libevtx_message(libevtx_error_t *error, char *buffer, size_t size)
{
    char text[LIBEVTX_MESSAGE_MAX] = "";

    if (error == NULL || libevtx_error_sprint(error, text, sizeof text) < 0)
        snprintf(text, sizeof text, "no detail from libevtx");
    da_error_quote(text, strlen(text), buffer, size);
}

/* Counts and reports a record that cannot be read. */
static void report_problem(const char *path, unsigned long position, const char *message,
                           const struct da_event_reader *reader,
                           struct da_event_read_stats *counts)
{
    counts->malformed++;
    if (reader->on_problem != NULL)
        reader->on_problem(path, "record", position, message, reader->context);
}

static void report_libevtx_problem(const char *path, unsigned long position, const char *what,
                                   libevtx_error_t *error, const struct da_event_reader *reader,
                                   struct da_event_read_stats *counts)
{
    char detail[LIBEVTX_MESSAGE_MAX];
    char message[LIBEVTX_MESSAGE_MAX + 128];

    libevtx_message(error, detail, sizeof detail);
    snprintf(message, sizeof message, "%s: %s", what, detail);
    report_problem(path, position, message, reader, counts);
}

/* Separates a file that cannot be read (DA_ERR_LOCAL) from one that is no
 * .evtx file (DA_ERR_USAGE) before libevtx opens it, because libevtx's
 * messages do not distinguish the two. */
static int check_signature(const char *path, struct da_error *err)
{
    char signature[sizeof EVTX_SIGNATURE];
    FILE *file = fopen(path, "rb");
    size_t got;
    int saved_errno;

    if (file == NULL)
        return da_error_set(err, DA_ERR_LOCAL, "cannot open %s: %s", path, strerror(errno));

    got = fread(signature, 1, sizeof signature, file);
    saved_errno = errno;
    if (ferror(file)) {
        fclose(file);
        return da_error_set(err, DA_ERR_LOCAL, "cannot read %s: %s", path,
                            strerror(saved_errno));
    }
    fclose(file);

    if (got < sizeof signature || memcmp(signature, EVTX_SIGNATURE, sizeof signature) != 0)
        return da_error_set(err, DA_ERR_USAGE,
                            "%s is no .evtx file: it does not start with \"ElfFile\"", path);
    return 0;
}

/* Reads one record, live or recovered, and hands its XML to the parser.
 * position is the record's 1-based number in the order of reading. */
/* True when reader->wants_string accepts one of the record's substitution
 * strings, or when the record has none or they cannot be read: the record
 * is then rendered and judged on its XML. */
static bool any_string_wanted(libevtx_record_t *record, const struct da_event_reader *reader)
{
    /* "0x" and 16 hex digits, the longest logon id Windows writes. */
    char value[24];
    int count = 0;

    if (libevtx_record_get_number_of_strings(record, &count, NULL) != 1 || count <= 0)
        return true;
    for (int i = 0; i < count; i++) {
        size_t size = 0;

        /* Longer strings (SIDs, names) cannot be a logon id: skip them
         * before converting them. */
        if (libevtx_record_get_utf8_string_size(record, i, &size, NULL) != 1 ||
            size == 0 || size > sizeof(value))
            continue;
        if (libevtx_record_get_utf8_string(record, i, (uint8_t *)value, sizeof(value), NULL) != 1)
            continue;
        if (reader->wants_string(value, reader->context))
            return true;
    }
    return false;
}

static int read_record(libevtx_file_t *file, int index, bool recovered, unsigned long position,
                       const char *path, const struct da_event_reader *reader,
                       struct da_event_read_stats *counts, struct da_error *err)
{
    libevtx_record_t *record = NULL;
    libevtx_error_t *error = NULL;
    uint8_t *xml = NULL;
    size_t size = 0;
    int got;
    int status = 0;

    if (recovered)
        got = libevtx_file_get_recovered_record_by_index(file, index, &record, &error);
    else
        got = libevtx_file_get_record_by_index(file, index, &record, &error);
    if (got != 1) {
        counts->records++;
        report_libevtx_problem(path, position, "libevtx cannot read the record", error, reader,
                               counts);
        goto out;
    }

    if (reader->wants_event_id != NULL) {
        uint32_t event_id = 0;

        /* The low 16 bits are the event id; qualifiers sit above them. */
        if (libevtx_record_get_event_identifier(record, &event_id, &error) == 1 &&
            !reader->wants_event_id(event_id & 0xffff, reader->context)) {
            counts->records++;
            goto out;
        }
        libevtx_error_free(&error);
    }

    if (reader->wants_string != NULL && !any_string_wanted(record, reader)) {
        counts->records++;
        goto out;
    }

    if (libevtx_record_get_utf8_xml_string_size(record, &size, &error) != 1 || size == 0) {
        counts->records++;
        report_libevtx_problem(path, position, "libevtx cannot render the record as XML", error,
                               reader, counts);
        goto out;
    }

    xml = malloc(size);
    if (xml == NULL) {
        status = da_error_set(err, DA_ERR_LOCAL, "out of memory reading record %lu of %s",
                              position, path);
        goto out;
    }
    if (libevtx_record_get_utf8_xml_string(record, xml, size, &error) != 1) {
        counts->records++;
        report_libevtx_problem(path, position, "libevtx cannot render the record as XML", error,
                               reader, counts);
        goto out;
    }

    /* size counts the terminating NUL. */
    status = da_events_parse_event_xml((const char *)xml, strnlen((const char *)xml, size), path,
                                       "record", position, reader, counts, err);

out:
    free(xml);
    libevtx_record_free(&record, NULL);
    libevtx_error_free(&error);
    return status;
}

/* Sets err from a libevtx failure on the whole file. */
static int file_error(struct da_error *err, enum da_status status, const char *path,
                      const char *what, libevtx_error_t *error)
{
    char detail[LIBEVTX_MESSAGE_MAX];

    libevtx_message(error, detail, sizeof detail);
    return da_error_set(err, status, "%s: %s: %s", path, what, detail);
}

/* Reads every record of an .evtx file that libevtx opens at open_path.
 * path names it in messages. *position counts records across calls. */
static int read_opened(const char *open_path, const char *path,
                       const struct da_event_reader *reader, struct da_event_read_stats *counts,
                       unsigned long *position, struct da_error *err)
{
    libevtx_file_t *file = NULL;
    libevtx_error_t *error = NULL;
    bool opened = false;
    int live = 0;
    int recovered = 0;
    int status = 0;

    if (libevtx_file_initialize(&file, &error) != 1) {
        status = file_error(err, DA_ERR_LOCAL, path, "libevtx cannot start", error);
        goto out;
    }
    /* NOTE: under valgrind, libevtx 20181227 reads 4 bytes at the last
     * byte of its 64 KiB chunk buffer in libevtx_chunk_read, on any file. */
    if (libevtx_file_open(file, open_path, LIBEVTX_OPEN_READ, &error) != 1) {
        status = file_error(err, DA_ERR_USAGE, path, "libevtx cannot open it as an .evtx file",
                            error);
        goto out;
    }
    opened = true;

    if (libevtx_file_get_number_of_records(file, &live, &error) != 1) {
        status = file_error(err, DA_ERR_USAGE, path, "libevtx cannot count its records", error);
        goto out;
    }
    for (int index = 0; index < live; index++) {
        status = read_record(file, index, false, ++*position, path, reader, counts, err);
        if (status != 0)
            goto out;
    }

    /* Records that libevtx recovers from the free space of the chunks,
     * such as the remains of overwritten records, are evidence too. */
    if (libevtx_file_get_number_of_recovered_records(file, &recovered, &error) != 1) {
        report_libevtx_problem(path, *position + 1, "libevtx cannot count the recovered records",
                               error, reader, counts);
        libevtx_error_free(&error);
        recovered = 0;
    }
    for (int index = 0; index < recovered; index++) {
        status = read_record(file, index, true, ++*position, path, reader, counts, err);
        if (status != 0)
            goto out;
    }

    /* libevtx stops reading a chunk at a damaged record header and drops
     * the partial chunk of a truncated file, so those records are missing
     * from the counts above and only libevtx_file_is_corrupted reveals them. */
    if (libevtx_file_is_corrupted(file, NULL) == 1)
        report_problem(path, *position + 1,
                       "libevtx found the file damaged (a damaged chunk or a truncated file): "
                       "records after the last one read may be missing",
                       reader, counts);

out:
    if (opened)
        libevtx_file_close(file, NULL);
    libevtx_file_free(&file, NULL);
    libevtx_error_free(&error);
    return status;
}

#define EVTX_HEADER_BLOCK_SIZE 4096
#define EVTX_CHUNK_SIZE 65536
#define EVTX_HEADER_CHECKSUMMED 120 /* bytes of the header under its CRC32 */

static uint32_t crc32_of(const unsigned char *bytes, size_t length)
{
    uint32_t crc = 0xffffffffu;

    for (size_t i = 0; i < length; i++) {
        crc ^= bytes[i];
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

static void put_le(unsigned char *at, uint64_t value, size_t size)
{
    for (size_t i = 0; i < size; i++)
        at[i] = (unsigned char)(value >> (8 * i));
}

/* Copies all of count bytes from fd at offset into buffer. Returns false
 * on a read error or a short file. */
static bool read_exactly(int fd, unsigned char *buffer, size_t count, off_t offset)
{
    size_t done = 0;

    while (done < count) {
        ssize_t got = pread(fd, buffer + done, count - done, offset + (off_t)done);

        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        done += (size_t)got;
    }
    return true;
}

int da_events_read_evtx_in_slices(const char *path, unsigned chunks_per_slice,
                                  const struct da_event_reader *reader,
                                  struct da_event_read_stats *stats, struct da_error *err)
{
    struct da_event_read_stats local = {0};
    struct da_event_read_stats *counts = stats != NULL ? stats : &local;
    unsigned char *slice = NULL;
    unsigned long position = 0;
    struct stat info;
    char open_path[64];
    off_t offset;
    int fd = -1;
    int memory = -1;
    int status;

    *counts = (struct da_event_read_stats){0};
    status = check_signature(path, err);
    if (status != 0)
        return status;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &info) != 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot open %s: %s", path, strerror(errno));
        goto out;
    }
    /* A small file is read whole: libevtx's index of it stays small. */
    if (chunks_per_slice == 0 ||
        info.st_size <= EVTX_HEADER_BLOCK_SIZE + (off_t)chunks_per_slice * EVTX_CHUNK_SIZE) {
        status = read_opened(path, path, reader, counts, &position, err);
        goto out;
    }

    /* libevtx keeps an index of every record of an open file, which grows
     * with the file. Each slice of chunks is presented to it as a file of
     * its own, in memory, behind the original header adjusted to the
     * slice's chunk count. */
    slice = malloc(EVTX_HEADER_BLOCK_SIZE + (size_t)chunks_per_slice * EVTX_CHUNK_SIZE);
    memory = memfd_create("delegaudit-evtx-slice", MFD_CLOEXEC);
    if (slice == NULL || memory < 0) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot prepare to read %s in slices: %s", path,
                              slice == NULL ? "out of memory" : strerror(errno));
        goto out;
    }
    if (!read_exactly(fd, slice, EVTX_HEADER_BLOCK_SIZE, 0)) {
        status = da_error_set(err, DA_ERR_LOCAL, "cannot read the header of %s", path);
        goto out;
    }
    snprintf(open_path, sizeof(open_path), "/proc/self/fd/%d", memory);

    for (offset = EVTX_HEADER_BLOCK_SIZE; offset < info.st_size && status == 0;) {
        size_t wanted = (size_t)chunks_per_slice * EVTX_CHUNK_SIZE;
        size_t length = (size_t)(info.st_size - offset) < wanted ? (size_t)(info.st_size - offset)
                                                                 : wanted;
        size_t chunks = (length + EVTX_CHUNK_SIZE - 1) / EVTX_CHUNK_SIZE;

        if (!read_exactly(fd, slice + EVTX_HEADER_BLOCK_SIZE, length, offset)) {
            status = da_error_set(err, DA_ERR_LOCAL, "cannot read %s at offset %lld", path,
                                  (long long)offset);
            break;
        }
        put_le(slice + 8, 0, 8);           /* first chunk number */
        put_le(slice + 16, chunks - 1, 8); /* last chunk number */
        put_le(slice + 42, chunks, 2);     /* number of chunks */
        put_le(slice + 124, crc32_of(slice, EVTX_HEADER_CHECKSUMMED), 4);

        /* Overwrite in place, and cut only what a shorter last slice leaves,
         * so that the memory pages are not freed and faulted in again. */
        if (pwrite(memory, slice, EVTX_HEADER_BLOCK_SIZE + length, 0) !=
                (ssize_t)(EVTX_HEADER_BLOCK_SIZE + length) ||
            ftruncate(memory, (off_t)(EVTX_HEADER_BLOCK_SIZE + length)) != 0) {
            status = da_error_set(err, DA_ERR_LOCAL, "cannot stage a slice of %s: %s", path,
                                  strerror(errno));
            break;
        }
        status = read_opened(open_path, path, reader, counts, &position, err);
        offset += (off_t)length;
    }

out:
    if (memory >= 0)
        close(memory);
    if (fd >= 0)
        close(fd);
    free(slice);
    return status;
}

int da_events_read_evtx(const char *path, const struct da_event_reader *reader,
                        struct da_event_read_stats *stats, struct da_error *err)
{
    return da_events_read_evtx_in_slices(path, DA_EVTX_CHUNKS_PER_SLICE, reader, stats, err);
}
