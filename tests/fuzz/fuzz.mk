# fuzz.mk - builds the libFuzzer harnesses with clang, ASan and UBSan, into
# build/fuzz/ (never mixed with the gcc objects in build/obj/).
#   make -f tests/fuzz/fuzz.mk -j2
FCC     ?= $(shell command -v clang-14 || command -v clang)
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FCFLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -I. -MMD -MP $(SAN) -DFUZZ_ROOT='"$(CURDIR)"'
LDLIBS  := -levent -lcurl -lcjson -lsqlite3 -lutf8proc -lcrypto -lm -lpthread

LIB_SRC := $(filter-out bot/main.c,$(wildcard bot/*.c adapters/*.c knowledge/*.c))
LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/obj/%.o)
HARNESS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))

all: $(HARNESS)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(FCC) $(FCFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

build/fuzz/libhotline.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h build/fuzz/libhotline.a
	@$(FCC) $(FCFLAGS) -fsanitize=fuzzer $< build/fuzz/libhotline.a $(LDLIBS) -o $@

-include $(LIB_OBJ:.o=.d)
