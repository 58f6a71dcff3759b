# parimg - make and load image datasets in parallel.
#   make            build ./parimg (installing missing Debian packages first)
#   make test       unit tests (Criterion) and command-line tests: what CI runs
#   make asan       the tests again under AddressSanitizer + UBSan (clang)
#   make bench      benchmarks of scripts/bench/ (not tests: they never fail on time)
#   make demo       install, build, generate and load a demo dataset
#   make install    PREFIX (/usr/local) and DESTDIR honoured; make uninstall

PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
MANDIR   = $(PREFIX)/share/man/man1
COMPDIR  = $(PREFIX)/share/bash-completion/completions
CC      ?= cc
PYTHON  ?= /usr/bin/python3
CFLAGS  ?= -O2 -g
WARNINGS = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2
ALL_CFLAGS = -std=gnu11 $(WARNINGS) $(CFLAGS) -Isrc -Isrc/codec -MMD -MP
LDLIBS  = -ljpeg -lwebpdemux -lwebp -ldeflate -ltiff -lseccomp -lxxhash -larchive -lm
BUILD  ?= build

# src/ holds the program, src/codec/ the decoders behind codec.c's table.
SRC      = $(filter-out %_test.c,$(wildcard src/*.c src/codec/*.c))
OBJ      = $(SRC:src/%.c=$(BUILD)/%.o)
LIB_OBJ  = $(filter-out $(BUILD)/main.o,$(OBJ))
TEST_SRC = $(wildcard src/*_test.c src/codec/*_test.c)
TEST_OBJ = $(TEST_SRC:src/%.c=$(BUILD)/%.o)

.PHONY: all deps test unit cli asan valgrind fuzz bench demo install uninstall clean

all: deps parimg

deps:
	@sh scripts/deps.sh

parimg: $(OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# stb_image_write's code, compiled in encode.c, gets its own flags (see asan).
$(BUILD)/encode.o: ALL_CFLAGS += $(STB_CFLAGS)

# The resampler's loops want the vectorizer at full strength (-O3), and its
# coefficients Pillow's exact doubles: no fused multiply-adds.
RESIZE_CFLAGS ?= -O3 -ffp-contract=off
$(BUILD)/resize.o: ALL_CFLAGS += $(RESIZE_CFLAGS)
# The same for the store step (torchvision's float32 operations, each
# rounded: no contraction) and the statistics' per-row sums.
$(BUILD)/tensor.o $(BUILD)/chanstats.o: ALL_CFLAGS += $(RESIZE_CFLAGS)

$(BUILD):
	mkdir -p $@

$(BUILD)/unit_tests: $(LIB_OBJ) $(TEST_OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

test: all unit cli

unit: deps $(BUILD)/unit_tests
	$(BUILD)/unit_tests --jobs 2

cli: deps parimg
	$(PYTHON) tests/cli_gen_test.py ./parimg
	$(PYTHON) tests/cli_load_test.py ./parimg
	$(PYTHON) tests/cli_resize_test.py ./parimg
	$(PYTHON) tests/cli_decode_test.py ./parimg
	$(PYTHON) tests/cli_formats_test.py ./parimg
	$(PYTHON) tests/cli_tiff_test.py ./parimg
	$(PYTHON) tests/cli_exif_test.py ./parimg
	$(PYTHON) tests/cli_shard_test.py ./parimg
	$(PYTHON) tests/cli_dataset_test.py ./parimg
	$(PYTHON) tests/cli_check_test.py ./parimg
	$(PYTHON) tests/cli_ragged_test.py ./parimg
	$(PYTHON) tests/cli_bench_test.py ./parimg
	$(PYTHON) tests/cli_fault_test.py ./parimg
	$(PYTHON) tests/cli_sandbox_test.py ./parimg
	$(PYTHON) tests/cli_tensor_test.py ./parimg
	$(PYTHON) tests/cli_cover_decode_test.py ./parimg
	$(PYTHON) tests/cli_archive_test.py ./parimg
	$(PYTHON) tests/cli_docs_test.py ./parimg
	$(PYTHON) tests/cli_slurm_test.py ./parimg

# The whole suite again, instrumented, in a build directory of its own.
# stb_image_write's JPEG bit writer shifts signed ints past their top bit
# (undefined, harmless on every compiler; not ours to fix), so that one check
# is off for encode.c.
SANITIZER_PKGS = clang libclang-rt-dev
asan: deps
	EXTRA_PKGS="$(SANITIZER_PKGS)" sh scripts/deps.sh
	$(MAKE) BUILD=build-asan CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined" \
		STB_CFLAGS="-fno-sanitize=shift-base" parimg-asan

parimg-asan: $(BUILD)/unit_tests $(OBJ)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJ) $(LDLIBS)
	ASAN_OPTIONS=detect_leaks=1 $(BUILD)/unit_tests --jobs 2
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_gen_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_load_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_resize_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_decode_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_formats_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_tiff_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_exif_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_shard_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_dataset_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_check_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_ragged_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_bench_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_fault_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_sandbox_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_tensor_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_cover_decode_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_archive_test.py ./parimg-asan
	ASAN_OPTIONS=detect_leaks=0 $(PYTHON) tests/cli_slurm_test.py ./parimg-asan

# The command-line tests with every parimg process (workers included) under
# valgrind memcheck: any error or definite leak makes that process exit 99.
valgrind: all
	EXTRA_PKGS=valgrind sh scripts/deps.sh
	printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-possibly-lost=no "%s/parimg" "$$@"\n' "$(CURDIR)" > $(BUILD)/parimg-valgrind
	chmod +x $(BUILD)/parimg-valgrind
	$(PYTHON) tests/cli_gen_test.py $(BUILD)/parimg-valgrind
	$(PYTHON) tests/cli_load_test.py $(BUILD)/parimg-valgrind
	$(PYTHON) tests/cli_shard_test.py $(BUILD)/parimg-valgrind
	$(PYTHON) tests/cli_dataset_test.py $(BUILD)/parimg-valgrind

# libFuzzer targets: load's per-file decode path, each decoder of codec.c's
# table on its own (fuzz_decode.c; fuzz2_*: two files in one process, as a
# worker decodes them, with fuzz/dict/'s dictionary), the EXIF parser, the .npy header code,
# and the archive reader (fuzz_archive.c, seeded with small tars and zips),
# each run
# FUZZ_TIME seconds from seeds (PngSuite, generated files, the photo
# fixtures); any crash, leak or timeout fails the target.
FUZZ_TIME ?= 60
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc -Isrc/codec
FUZZ_DECODERS = jpeg png webp gif bmp tga pnm tiff
DECODE_SRC = src/codec/codec.c $(wildcard src/codec/dec_*.c) src/codec/exif.c src/codec/tiff_lzw.c \
	src/codec/jpeg_window.c src/orient.c
# The archive reader with what it lists into (a file list, a dataset).
ARCHIVE_SRC = src/arch.c src/arch_labels.c src/filelist.c src/dataset.c src/err.c src/npy.c src/rng.c \
	src/outfile.c
fuzz: all
	EXTRA_PKGS="$(SANITIZER_PKGS)" sh scripts/deps.sh
	mkdir -p build-fuzz
	clang $(FUZZ_FLAGS) -o build-fuzz/fuzz_row fuzz/fuzz_row.c src/row.c src/resize.c src/tensor.c \
		src/chanstats.c src/err.c $(DECODE_SRC) $(LDLIBS)
	for d in $(FUZZ_DECODERS); do \
		clang $(FUZZ_FLAGS) -DDECODER=dec_$$d -o build-fuzz/fuzz_$$d fuzz/fuzz_decode.c \
			$(DECODE_SRC) $(LDLIBS) || exit 1; \
		clang $(FUZZ_FLAGS) -DDECODER=dec_$$d -DTWO_INPUTS -o build-fuzz/fuzz2_$$d fuzz/fuzz_decode.c \
			$(DECODE_SRC) $(LDLIBS) || exit 1; \
	done
	clang $(FUZZ_FLAGS) -o build-fuzz/fuzz_npy fuzz/fuzz_npy.c src/npy.c
	clang $(FUZZ_FLAGS) -o build-fuzz/fuzz_exif fuzz/fuzz_exif.c src/codec/exif.c
	clang $(FUZZ_FLAGS) -o build-fuzz/fuzz_archive fuzz/fuzz_archive.c $(ARCHIVE_SRC) $(LDLIBS)
	rm -rf build-fuzz/seeds && sh fuzz/seeds.sh ./parimg build-fuzz/seeds
	for t in row $(FUZZ_DECODERS) exif; do \
		mkdir -p build-fuzz/corpus-$$t && \
		build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
			$$([ -f fuzz/dict/$$t.dict ] && echo -dict=fuzz/dict/$$t.dict) \
			-artifact_prefix=build-fuzz/$$t- build-fuzz/corpus-$$t build-fuzz/seeds/$$t || exit 1; \
	done
	for t in $(FUZZ_DECODERS); do \
		mkdir -p build-fuzz/corpus2-$$t && \
		build-fuzz/fuzz2_$$t -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 \
			-dict=fuzz/dict/$$t.dict -artifact_prefix=build-fuzz/two-$$t- \
			build-fuzz/corpus2-$$t build-fuzz/seeds/pair-$$t || exit 1; \
	done
	mkdir -p build-fuzz/corpus-npy
	build-fuzz/fuzz_npy -max_total_time=$(FUZZ_TIME) -timeout=10 \
		-artifact_prefix=build-fuzz/ build-fuzz/corpus-npy build-fuzz/seeds/npy
	mkdir -p build-fuzz/corpus-archive
	build-fuzz/fuzz_archive -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
		-artifact_prefix=build-fuzz/archive- build-fuzz/corpus-archive build-fuzz/seeds/archive

bench: all
	sh scripts/bench/bench.sh

demo: all
	sh scripts/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(COMPDIR)
	install -m 755 parimg $(DESTDIR)$(BINDIR)/parimg
	install -m 644 man/parimg.1 $(DESTDIR)$(MANDIR)/parimg.1
	install -m 644 completions/parimg.bash $(DESTDIR)$(COMPDIR)/parimg

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/parimg $(DESTDIR)$(MANDIR)/parimg.1 \
		$(DESTDIR)$(COMPDIR)/parimg

clean:
	rm -rf build build-asan build-fuzz parimg parimg-asan demo demo.npy

-include $(OBJ:.o=.d) $(TEST_OBJ:.o=.d)
