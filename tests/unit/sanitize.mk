# sanitize.mk - the unit tests rebuilt with AddressSanitizer and
# UndefinedBehaviorSanitizer into build/asan/ (separate from build/obj/).
#   make -f tests/unit/sanitize.mk -j2
SCC     ?= cc
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SCFLAGS := -std=c11 -g -O1 -Wall -Wextra -D_GNU_SOURCE -I. -MMD -MP $(SAN)
LDLIBS  := -levent -lcurl -lcjson -lsqlite3 -lutf8proc -lcrypto -lm -lpthread

LIB_SRC := $(filter-out bot/main.c,$(wildcard bot/*.c adapters/*.c knowledge/*.c))
LIB_OBJ := $(LIB_SRC:%.c=build/asan/obj/%.o)
TESTS   := $(patsubst tests/unit/%.c,build/asan/%,$(wildcard tests/unit/test_*.c))

all: $(TESTS) build/asan/hotline

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(SCC) $(SCFLAGS) -c $< -o $@

build/asan/libhotline.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

build/asan/test_%: tests/unit/test_%.c build/asan/libhotline.a
	@$(SCC) $(SCFLAGS) $< build/asan/libhotline.a $(LDLIBS) -lcmocka -o $@

build/asan/hotline: build/asan/obj/bot/main.o build/asan/libhotline.a
	@$(SCC) $(SCFLAGS) $^ $(LDLIBS) -o $@

-include $(LIB_OBJ:.o=.d) build/asan/obj/bot/main.d
