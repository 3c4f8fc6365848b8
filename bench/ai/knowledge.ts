/**
 * The knowledge base the chat benchmark asks about: {@link ARTICLES} articles of about 1 KB,
 * twenty topics in ten variants each, and questions whose terms the topics share, so that
 * retrieval finds passages and the local provider answers from them.
 */

const TOPICS = [
  [
    "Resetting your password",
    "password reset security settings email link",
    "Open Settings, choose Security and press Reset password. A link arrives by email within a minute.",
  ],
  [
    "Getting a refund for an order",
    "refund order payment return wallet",
    "Open the order, press Request refund and pick a reason. Refunds go back to the wallet that paid.",
  ],
  [
    "Changing your username",
    "username profile change name handle",
    "Open your profile, press Edit and type a new username. Usernames are unique within the app.",
  ],
  [
    "Turning on two-factor sign-in",
    "two-factor authenticator code sign-in security",
    "Open Security, press Two-factor sign-in and scan the code with an authenticator app.",
  ],
  [
    "Deleting your account",
    "delete account data erase close",
    "Open Settings, choose Account and press Delete account. Your data is erased after thirty days.",
  ],
  [
    "Buying AI units",
    "units quota buy pack purchase ai",
    "Open the shop and buy a pack of AI units. Packs are used after the daily allowance.",
  ],
  [
    "Blocking another user",
    "block user harassment mute report",
    "Open their profile, press the menu and choose Block. They can no longer message you.",
  ],
  [
    "Reporting a post",
    "report post abuse moderation review",
    "Press the menu of the post and choose Report. A moderator reviews it within a day.",
  ],
  [
    "Muting notifications",
    "notifications mute quiet hours push",
    "Open Notifications and set quiet hours, or mute a single conversation from its menu.",
  ],
  [
    "Uploading a profile picture",
    "avatar picture upload photo image",
    "Open your profile, press the picture and choose a photo. Images up to 5 MB are accepted.",
  ],
  [
    "Creating a group conversation",
    "group conversation chat members create",
    "Press New conversation, choose Group and add up to fifty members.",
  ],
  [
    "Becoming a VIP member",
    "vip membership level benefits subscription",
    "Open the shop and choose a VIP plan. Benefits start as soon as the payment clears.",
  ],
  [
    "Exporting your data",
    "export data download archive copy",
    "Open Settings, choose Privacy and press Export. A download link arrives by email.",
  ],
  [
    "Signing in on a new phone",
    "sign-in phone device login new",
    "Install the app, press Sign in and enter your username and password, or scan the code.",
  ],
  [
    "Inviting a friend",
    "invite friend referral link share",
    "Open Friends, press Invite and share the link. Both of you get a reward after sign-up.",
  ],
  [
    "Changing the app language",
    "language locale translation settings",
    "Open Settings, choose Language and pick one of the supported languages.",
  ],
  [
    "Paying with a card",
    "card payment checkout stripe pay",
    "At checkout choose Card and enter the number. Cards are charged when the order is placed.",
  ],
  [
    "Searching for posts",
    "search posts find tags keywords",
    "Type words in the search box; tags narrow the results and the newest come first.",
  ],
  [
    "Leaving a group",
    "leave group conversation exit members",
    "Open the group's menu and press Leave. The others see that you left.",
  ],
  [
    "Contacting support",
    "support help agent person contact",
    "Ask in the chat and press Talk to a person; a member of support joins the conversation.",
  ],
] as const;

export const ARTICLES = 200;

/** Article `i`: its topic's title and steps, numbered, among filler that shares the topic's terms. */
export function article(i: number): { title: string; body: string; tags: string[] } {
  const [title, terms, steps] = TOPICS[i % TOPICS.length]!;
  const variant = Math.floor(i / TOPICS.length) + 1;
  const words = terms.split(" ");
  const filler = Array.from(
    { length: 12 },
    (_, k) =>
      `Note ${k + 1} on ${words[k % words.length]}: this applies to every ${words[(k + 1) % words.length]} in the app.`,
  ).join(" ");
  return {
    title: `${title} (${variant})`,
    body: `${steps}\n\n${filler}\n\nVariant ${variant} of this article covers the same ${words[0]} steps.`,
    tags: words.slice(0, 3),
  };
}

/** The questions the sessions ask in turn; each shares terms with one topic. */
export const QUESTIONS = [
  "How do I reset my password?",
  "How can I get a refund for my order?",
  "How do I turn on two-factor sign-in?",
  "How do I buy more AI units?",
  "How do I block another user?",
  "How do I export my data?",
];
