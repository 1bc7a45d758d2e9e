// Tests for cutting `seaway sql` input into statements (src/cli).
#include "cli/statement_splitter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace seaway::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(StatementSplitterTest, SplitsStatementsOnOneLine) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add("select 1 as a; select 2 as b;\n"),
              ElementsAre("select 1 as a", "select 2 as b"));
  EXPECT_FALSE(splitter.InStatement());
  EXPECT_EQ(splitter.TakeRest(), "");
}

TEST(StatementSplitterTest, CommentAfterSemicolonDoesNotHoldTheStatement) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add("select 1 as a; -- first\n"), ElementsAre("select 1 as a"));
  EXPECT_FALSE(splitter.InStatement());
  EXPECT_THAT(splitter.Add("select 2 as b;\n"), ElementsAre("-- first\nselect 2 as b"));
}

TEST(StatementSplitterTest, SemicolonsInCommentsAreNotEnds) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add("select 1 -- a; b\n, 2 /* c; /* nested; */ d; */ as x;\n"),
              ElementsAre("select 1 -- a; b\n, 2 /* c; /* nested; */ d; */ as x"));
}

TEST(StatementSplitterTest, SemicolonInMultiLineStringIsNotAnEnd) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add("select 'x;\n"), IsEmpty());
  EXPECT_TRUE(splitter.InStatement());
  EXPECT_THAT(splitter.Add("y' as s;\n"), ElementsAre("select 'x;\ny' as s"));
  EXPECT_FALSE(splitter.InStatement());
}

TEST(StatementSplitterTest, DoubledQuotesStayInside) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add("select 'it''s;' as \"a\"\";b\"; select 2;"),
              ElementsAre("select 'it''s;' as \"a\"\";b\"", "select 2"));
}

TEST(StatementSplitterTest, TwoByteTokensMaySpanPieces) {
  StatementSplitter splitter;
  // A doubled quote cut between pieces: the string goes on.
  EXPECT_THAT(splitter.Add("select 'a'"), IsEmpty());
  EXPECT_THAT(splitter.Add("';' as s; select '-"), ElementsAre("select 'a'';' as s"));
  EXPECT_THAT(splitter.Add("'; select 1 -"), ElementsAre("select '-'"));
  // A line comment and a block comment whose delimiters are cut.
  EXPECT_THAT(splitter.Add("- ;\n; select 2 /"), ElementsAre("select 1 -- ;"));
  EXPECT_THAT(splitter.Add("* ; *"), IsEmpty());
  EXPECT_THAT(splitter.Add("/;"), ElementsAre("select 2 /* ; */"));
}

TEST(StatementSplitterTest, DropsEmptyStatements) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add(";;  ;\n-- only a note\n;\n/* and; this */;"), IsEmpty());
  EXPECT_FALSE(splitter.InStatement());
}

TEST(StatementSplitterTest, RestIsTheUnendedStatement) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add("select 1; select 42 as unterminated\n"), ElementsAre("select 1"));
  EXPECT_TRUE(splitter.InStatement());
  EXPECT_EQ(splitter.TakeRest(), "select 42 as unterminated");
  EXPECT_FALSE(splitter.InStatement());
  EXPECT_THAT(splitter.Add("select 3;"), ElementsAre("select 3"));
}

TEST(StatementSplitterTest, OpenCommentAsksForMore) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add("/* a comment\n"), IsEmpty());
  EXPECT_TRUE(splitter.InStatement());
  EXPECT_THAT(splitter.Add("still; */\n"), IsEmpty());
  EXPECT_FALSE(splitter.InStatement());
}

TEST(StatementSplitterTest, ClearForgetsTheUnendedStatement) {
  StatementSplitter splitter;
  EXPECT_THAT(splitter.Add("select 'open\n"), IsEmpty());
  splitter.Clear();
  EXPECT_FALSE(splitter.InStatement());
  EXPECT_THAT(splitter.Add("select 5 as z;\n"), ElementsAre("select 5 as z"));
}

}  // namespace
}  // namespace seaway::cli
