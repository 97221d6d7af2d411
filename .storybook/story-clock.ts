/**
 * The instant every story lives at. The story backend's fake clock stands here after seeding, and the
 * browser tests pin Chromium's `Date` to it, so dates, "days left" and screenshots never change.
 */
export const STORY_NOW = '2026-11-20T15:00:00.000Z';
