# hotline - build, run, test, bench, fuzz.
# Sources are discovered by wildcard so a new module needs no Makefile edit:
# every .c in bot/, adapters/ and knowledge/ except bot/main.c goes into
# build/libhotline.a; every tests/unit/test_*.c becomes its own cmocka binary.

CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -D_GNU_SOURCE -pthread -I. -MMD -MP
LDLIBS  := -levent -lcurl -lcjson -lsqlite3 -lutf8proc -lcrypto -lm -lpthread

LIB_SRC := $(filter-out bot/main.c,$(wildcard bot/*.c adapters/*.c knowledge/*.c))
LIB_OBJ := $(LIB_SRC:%.c=build/obj/%.o)
TEST_SRC := $(wildcard tests/unit/test_*.c)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=build/tests/%)
BENCH_SRC := $(wildcard tests/bench/*.c)
BENCH_BIN := $(BENCH_SRC:tests/bench/%.c=build/bench/%)

.PHONY: all deps run test unit bench fuzz clean
all: build/hotline

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

build/libhotline.a: $(LIB_OBJ)
	@mkdir -p build
	rm -f $@ && ar rcs $@ $^

build/hotline: build/obj/bot/main.o build/libhotline.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

build/tests/%: tests/unit/%.c build/libhotline.a
	@mkdir -p build/tests
	$(CC) $(CFLAGS) -o $@ $< build/libhotline.a $(LDLIBS) -lcmocka

build/bench/%: tests/bench/%.c build/libhotline.a
	@mkdir -p build/bench
	$(CC) $(CFLAGS) -o $@ $< build/libhotline.a $(LDLIBS)

deps:
	@bash deploy/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	./build/hotline serve $(if $(CONFIG),--config $(CONFIG))

unit: all $(TEST_BIN)

test:
	@HOTLINE_DEPS_EXTRA=1 bash deploy/deps.sh
	@$(MAKE) --no-print-directory all $(TEST_BIN)
	@bash tests/run.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BIN)
	@bash tests/bench/run.sh

fuzz: deps
	@bash tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) build/obj/bot/main.d
