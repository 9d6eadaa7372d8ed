/* idwatch-gen: writes the man page and the shell completions from the tables the program itself
 * uses (the option table of app.h, the action table of action.h), so they cannot drift. Built in
 * the build tree and run there; never installed.
 *
 *   idwatch-gen man TEMPLATE OUT     the template's @COMMANDS@, @OPTIONS@, @KEYS@,
 *                                    @ENVIRONMENT@ lines and @VERSION@ filled in
 *   idwatch-gen bash|zsh|fish OUT    a completion script
 *   idwatch-gen keys|flags           every key name of the action table / every flag, one a line
 *                                    (for the tests that check the man page) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idwatch/app.h"
#include "idwatch/action.h"

/* ---- roff ---------------------------------------------------------------------------------- */

/* Text for roff: backslashes and dashes escaped, no line starting with a control character. */
static void roff(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else
            fputc(*s, out);
    }
}

/* A help text as a sentence: capital first letter, full stop. */
static void roff_sentence(FILE *out, const char *s)
{
    if (*s >= 'a' && *s <= 'z') {
        fputc(*s - 'a' + 'A', out);
        s++;
    }
    roff(out, s);
    fputs(".\n", out);
}

static void man_option(FILE *out, const struct app_option_info *o)
{
    fputs(".TP\n", out);
    if (o->short_)
        fprintf(out, "\\fB\\-%c\\fR, ", o->short_);
    fputs("\\fB\\-\\-", out);
    roff(out, o->name);
    fputs("\\fR", out);
    if (o->arg) {
        fputs(" \\fI", out);
        roff(out, o->arg);
        fputs("\\fR", out);
    }
    fputc('\n', out);
    roff_sentence(out, o->help);
    if (o->def) {
        fputs("Default: ", out);
        roff(out, o->def);
        fputs(".\n", out);
    }
    if (o->env) {
        fputs("Environment: \\fB", out);
        roff(out, o->env);
        fputs("\\fR.\n", out);
    }
    if (o->scope != APP_CFG_NO) {
        fputs("Config file: \\fB", out);
        roff(out, o->name);
        fputs(o->scope == APP_CFG_ANY ? "\\fR, also in [context] sections.\n"
                                      : "\\fR, at the top level only.\n",
              out);
    }
}

static void man_keys(FILE *out)
{
    int group = -1;
    for (int a = 1; action_info((enum action_id)a); a++) {
        const struct action_info *k = action_info((enum action_id)a);
        if ((int)k->group != group) {
            group = (int)k->group;
            fputs(".SS ", out);
            roff(out, action_group_title(k->group));
            fputc('\n', out);
        }
        fputs(".TP\n\\fB", out);
        char keys[128];
        snprintf(keys, sizeof keys, "%s", k->keys);
        char *save = NULL;
        int first = 1;
        for (char *w = strtok_r(keys, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
            if (!first)
                fputs("\\fR, \\fB", out);
            roff(out, w);
            first = 0;
        }
        fputs("\\fR\n", out);
        roff(out, k->help);
        fputs(" [", out);
        roff(out, k->id); /* the name IDWATCH_KEYS rebinds it by */
        fputs("].\n", out);
    }
}

static void man_environment(FILE *out)
{
    for (int i = 0; app_option_info((enum app_opt)i); i++) {
        const struct app_option_info *o = app_option_info((enum app_opt)i);
        if (!o->env)
            continue;
        fputs(".TP\n.B ", out);
        roff(out, o->env);
        fputs("\nAs \\fB\\-\\-", out);
        roff(out, o->name);
        fputs("\\fR: ", out);
        roff(out, o->help);
        fputs(".\n", out);
    }
}

static void man_commands(FILE *out)
{
    const char *help;
    for (size_t i = 0; app_command_name(i, &help); i++) {
        fputs(".TP\n.B ", out);
        roff(out, app_command_name(i, NULL));
        fputc('\n', out);
        roff(out, help);
        fputs(".\n", out);
    }
}

static int gen_man(const char *template, FILE *out)
{
    FILE *in = fopen(template, "r");
    if (!in) {
        perror(template);
        return 1;
    }
    char line[4096];
    while (fgets(line, sizeof line, in)) {
        char *v = strstr(line, "@VERSION@");
        if (v) {
            *v = '\0';
            fprintf(out, "%s%s%s", line, IDWATCH_VERSION, v + 9);
        } else if (strcmp(line, "@OPTIONS@\n") == 0) {
            for (int i = 0; app_option_info((enum app_opt)i); i++)
                man_option(out, app_option_info((enum app_opt)i));
        } else if (strcmp(line, "@KEYS@\n") == 0) {
            man_keys(out);
        } else if (strcmp(line, "@ENVIRONMENT@\n") == 0) {
            man_environment(out);
        } else if (strcmp(line, "@COMMANDS@\n") == 0) {
            man_commands(out);
        } else {
            fputs(line, out);
        }
    }
    fclose(in);
    return 0;
}

/* ---- completions --------------------------------------------------------------------------- */

/* The fixed words that complete a kind of value, blank-separated. */
static void words(FILE *out, enum app_complete kind)
{
    const char *w;
    for (size_t i = 0; (w = app_complete_value(kind, i)); i++)
        fprintf(out, "%s%s", i ? " " : "", w);
}

#define FOR_OPTIONS(o) for (int i_ = 0; ((o) = app_option_info((enum app_opt)i_)); i_++)

static void gen_bash(FILE *out)
{
    const struct app_option_info *o;
    fputs(
        "# bash completion for idwatch and kubectl-idwatch\n"
        "# Generated from idwatch's option table by idwatch-gen: do not edit.\n"
        "_idwatch() {\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
        "    local i cmd=${COMP_WORDS[0]} have_cmd=\n"
        "    if [[ $prev == = && $COMP_CWORD -ge 2 ]]; then prev=${COMP_WORDS[COMP_CWORD-2]}; fi\n"
        "    # the kubeconfig and context typed so far decide what __complete reads\n"
        "    local -a kargs=()\n"
        "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
        "        case ${COMP_WORDS[i]} in\n"
        "        --kubeconfig|--context)\n"
        "            local v=${COMP_WORDS[i+1]}\n"
        "            [[ $v == = ]] && v=${COMP_WORDS[i+2]}\n"
        "            kargs+=(\"${COMP_WORDS[i]}\" \"$v\") ;;\n",
        out);
    fputs("        report|version) have_cmd=1 ;;\n"
          "        esac\n"
          "    done\n"
          "    case $prev in\n",
          out);
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: options with a value to complete; pass 1: the other options with a value */
        int n = 0;
        FOR_OPTIONS(o)
        {
            if (!o->arg || (pass == 0) != (o->complete != APP_COMPLETE_NONE))
                continue;
            fprintf(out, "%s%s--%s", n++ ? "|" : "    ", "", o->name);
            if (o->short_)
                fprintf(out, "|-%c", o->short_);
            if (pass == 1)
                continue;
            fputs(")\n        ", out);
            switch (o->complete) {
            case APP_COMPLETE_FILE: fputs("COMPREPLY=()  # readline's own file names", out); break;
            case APP_COMPLETE_CONTEXT:
            case APP_COMPLETE_NAMESPACE:
                fprintf(out,
                        "COMPREPLY=($(compgen -W \"$(command \"$cmd\" __complete %s "
                        "\"${kargs[@]}\" 2>/dev/null)\" -- \"$cur\"))",
                        o->complete == APP_COMPLETE_CONTEXT ? "contexts" : "namespaces");
                break;
            default:
                fputs("COMPREPLY=($(compgen -W \"", out);
                words(out, o->complete);
                fputs("\" -- \"$cur\"))", out);
                if (o->complete == APP_COMPLETE_THEME || o->complete == APP_COMPLETE_SCENARIO)
                    fputs("\n        compopt -o filenames 2>/dev/null\n"
                          "        COMPREPLY+=($(compgen -f -- \"$cur\"))",
                          out);
                break;
            }
            fputs("\n        return ;;\n", out);
            n = 0;
        }
        if (pass == 1 && n)
            fputs(")\n        compopt +o default 2>/dev/null  # a value nobody can guess\n"
                  "        return ;;\n",
                  out);
    }
    fputs("    esac\n"
          "    if [[ $cur == -* ]]; then\n"
          "        COMPREPLY=($(compgen -W \"",
          out);
    int n = 0;
    FOR_OPTIONS(o)
    {
        fprintf(out, "%s--%s", n++ ? " " : "", o->name);
        if (o->short_)
            fprintf(out, " -%c", o->short_);
    }
    fputs("\" -- \"$cur\"))\n"
          "        return\n"
          "    fi\n"
          "    [[ -n $have_cmd ]] || COMPREPLY=($(compgen -W \"",
          out);
    const char *c;
    for (size_t i = 0; (c = app_command_name(i, NULL)); i++)
        fprintf(out, "%s%s", i ? " " : "", c);
    fputs("\" -- \"$cur\"))\n"
          "}\n"
          "complete -o default -F _idwatch idwatch kubectl-idwatch\n",
          out);
}

/* A string inside single quotes for zsh and fish ('\'' ends, escapes and reopens). */
static void squoted(FILE *out, const char *s, const char *also)
{
    for (; *s; s++) {
        if (*s == '\'')
            fputs("'\\''", out);
        else if (also && strchr(also, *s))
            fprintf(out, "\\%c", *s);
        else
            fputc(*s, out);
    }
}

static void gen_zsh(FILE *out)
{
    const struct app_option_info *o;
    fputs("#compdef idwatch kubectl-idwatch\n"
          "# zsh completion for idwatch. Generated from idwatch's option table by idwatch-gen: do "
          "not edit.\n"
          "\n"
          "_idwatch_dynamic() {\n"
          "  # the kubeconfig and context typed so far decide what __complete reads\n"
          "  local -a kargs names\n"
          "  [[ -n ${opt_args[--kubeconfig]} ]] && kargs+=(--kubeconfig "
          "${(Q)opt_args[--kubeconfig]})\n"
          "  [[ -n ${opt_args[--context]} ]] && kargs+=(--context ${(Q)opt_args[--context]})\n"
          "  local what=${@[-1]}  # _arguments puts compadd options before the word\n"
          "  names=(${(f)\"$(command ${words[1]} __complete $what $kargs 2>/dev/null)\"})\n"
          "  _describe -t $what ${what%s} names\n"
          "}\n"
          "\n",
          out);
    fputs("_idwatch_themes() {\n  _alternative 'names:theme:(", out);
    words(out, APP_COMPLETE_THEME);
    fputs(")' 'files:theme file:_files'\n}\n\n_idwatch_scenarios() {\n"
          "  _alternative 'names:scenario:(",
          out);
    words(out, APP_COMPLETE_SCENARIO);
    fputs(")' 'files:scenario file:_files'\n}\n\n_idwatch() {\n  _arguments -s -S \\\n", out);
    FOR_OPTIONS(o)
    {
        char list[400] = "", action[512];
        size_t len = 0;
        const char *w;
        for (size_t i = 0; (w = app_complete_value(o->complete, i)) && len < sizeof list; i++)
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? " " : "", w);
        switch (o->complete) {
        case APP_COMPLETE_FILE: snprintf(action, sizeof action, "_files"); break;
        case APP_COMPLETE_CONTEXT:
            snprintf(action, sizeof action, "_idwatch_dynamic contexts");
            break;
        case APP_COMPLETE_NAMESPACE:
            snprintf(action, sizeof action, "_idwatch_dynamic namespaces");
            break;
        case APP_COMPLETE_NONE: snprintf(action, sizeof action, " "); break;
        case APP_COMPLETE_THEME: snprintf(action, sizeof action, "_idwatch_themes"); break;
        case APP_COMPLETE_SCENARIO: snprintf(action, sizeof action, "_idwatch_scenarios"); break;
        default: snprintf(action, sizeof action, "(%s)", list); break;
        }
        fputs("    '", out);
        if (o->short_)
            fprintf(out, "(-%c --%s)'{-%c,--%s}'", o->short_, o->name, o->short_, o->name);
        else
            fprintf(out, "--%s", o->name);
        fputc('[', out);
        squoted(out, o->help, "[]");
        fputc(']', out);
        if (o->arg) {
            fputc(':', out);
            squoted(out, o->arg, ":");
            fputc(':', out);
            squoted(out, action, NULL);
        }
        fputs("' \\\n", out);
    }
    fputs("    '1:command:((", out);
    const char *c, *help;
    for (size_t i = 0; (c = app_command_name(i, &help)); i++) {
        char shorter[64];
        snprintf(shorter, sizeof shorter, "%s", help);
        shorter[strcspn(shorter, ",;(")] = '\0';
        fprintf(out, "%s%s\\:\"", i ? " " : "", c);
        squoted(out, shorter, "\"");
        fputc('"', out);
    }
    fputs("))'\n"
          "}\n"
          "\n"
          "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n"
          "  _idwatch \"$@\"\n"
          "else\n"
          "  compdef _idwatch idwatch kubectl-idwatch\n"
          "fi\n",
          out);
}

static void gen_fish(FILE *out)
{
    const struct app_option_info *o;
    fputs("# fish completion for idwatch. Generated from idwatch's option table by idwatch-gen: "
          "do not edit.\n"
          "function __idwatch_dynamic\n"
          "    # the kubeconfig and context typed so far decide what __complete reads\n"
          "    set -l tokens (commandline -opc)\n"
          "    set -l kargs\n"
          "    for i in (seq 2 (count $tokens))\n"
          "        switch $tokens[$i]\n"
          "            case --kubeconfig --context\n"
          "                set -l j (math $i + 1)\n"
          "                if test $j -le (count $tokens)\n"
          "                    set -a kargs $tokens[$i] $tokens[$j]\n"
          "                end\n"
          "        end\n"
          "    end\n"
          "    command $tokens[1] __complete $argv[1] $kargs 2>/dev/null\n"
          "end\n"
          "\n"
          "function __idwatch_no_command\n"
          "    for t in (commandline -opc)[2..-1]\n"
          "        contains -- $t",
          out);
    const char *c, *help;
    for (size_t i = 0; (c = app_command_name(i, NULL)); i++)
        fprintf(out, " %s", c);
    fputs("; and return 1\n"
          "    end\n"
          "end\n"
          "\n"
          "complete -c idwatch -f\n",
          out);
    for (size_t i = 0; (c = app_command_name(i, &help)); i++) {
        char shorter[64];
        snprintf(shorter, sizeof shorter, "%s", help);
        shorter[strcspn(shorter, ",;(")] = '\0';
        fprintf(out, "complete -c idwatch -n __idwatch_no_command -a %s -d '", c);
        squoted(out, shorter, NULL);
        fputs("'\n", out);
    }
    FOR_OPTIONS(o)
    {
        fputs("complete -c idwatch", out);
        if (o->short_)
            fprintf(out, " -s %c", o->short_);
        fprintf(out, " -l %s", o->name);
        switch (o->complete) {
        case APP_COMPLETE_NONE: fputs(o->arg ? " -x" : "", out); break;
        case APP_COMPLETE_FILE: fputs(" -r -F", out); break;
        case APP_COMPLETE_CONTEXT: fputs(" -x -a '(__idwatch_dynamic contexts)'", out); break;
        case APP_COMPLETE_NAMESPACE: fputs(" -x -a '(__idwatch_dynamic namespaces)'", out); break;
        default:
            fputs(o->complete == APP_COMPLETE_THEME || o->complete == APP_COMPLETE_SCENARIO
                      ? " -r -F -a '"
                      : " -x -a '",
                  out);
            words(out, o->complete);
            fputc('\'', out);
            break;
        }
        fputs(" -d '", out);
        squoted(out, o->help, NULL);
        fputs("'\n", out);
    }
    fputs("complete -c kubectl-idwatch -w idwatch\n", out);
}

static void list_keys(FILE *out)
{
    for (int a = 1; action_info((enum action_id)a); a++) {
        char keys[128];
        snprintf(keys, sizeof keys, "%s", action_info((enum action_id)a)->keys);
        char *save = NULL;
        for (char *w = strtok_r(keys, " ", &save); w; w = strtok_r(NULL, " ", &save))
            fprintf(out, "%s\n", w);
    }
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "";
    if (strcmp(what, "keys") == 0) {
        list_keys(stdout);
        return 0;
    }
    if (strcmp(what, "flags") == 0) {
        const struct app_option_info *o;
        FOR_OPTIONS(o)
        printf("--%s\n", o->name);
        return 0;
    }
    int man = strcmp(what, "man") == 0;
    if (argc != (man ? 4 : 3)) {
        fprintf(stderr, "usage: idwatch-gen man TEMPLATE OUT | bash|zsh|fish OUT | keys | flags\n");
        return 2;
    }
    const char *path = argv[argc - 1];
    FILE *out = fopen(path, "w");
    if (!out) {
        perror(path);
        return 1;
    }
    int rc = 0;
    if (man)
        rc = gen_man(argv[2], out);
    else if (strcmp(what, "bash") == 0)
        gen_bash(out);
    else if (strcmp(what, "zsh") == 0)
        gen_zsh(out);
    else if (strcmp(what, "fish") == 0)
        gen_fish(out);
    else
        rc = 2;
    if (fclose(out) != 0 || rc != 0) {
        fprintf(stderr, "idwatch-gen: cannot write %s\n", path);
        remove(path);
        return rc ? rc : 1;
    }
    return 0;
}
